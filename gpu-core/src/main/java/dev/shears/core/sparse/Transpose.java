package dev.shears.core.sparse;

import dev.shears.core.cpu.Parallel;

/** Out-of-place transpose of row-major matrices in cache-sized tiles, in parallel when large. */
final class Transpose {
    private Transpose() {}

    private static final int TILE = 32;

    /** dst [cols, rows] = src [rows, cols]^T (both dense row-major). */
    static void transpose(float[] src, int srcOff, int rows, int cols, float[] dst, int dstOff) {
        int rowTiles = (rows + TILE - 1) / TILE;
        Parallel.RangeBody body = (t0, t1) -> {
            for (int ti = t0; ti < t1; ti++) {
                int i0 = ti * TILE, i1 = Math.min(rows, i0 + TILE);
                for (int j0 = 0; j0 < cols; j0 += TILE) {
                    int j1 = Math.min(cols, j0 + TILE);
                    for (int i = i0; i < i1; i++) {
                        int s = srcOff + i * cols;
                        for (int j = j0; j < j1; j++) dst[dstOff + j * rows + i] = src[s + j];
                    }
                }
            }
        };
        if ((long) rows * cols < 64 * 1024) body.run(0, rowTiles);
        else Parallel.forRange(rowTiles, 1, body);
    }
}
