package dev.shears.core.sparse;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Blocked-ELL, in the cuSPARSE layout ({@code cusparseCreateBlockedEll}): A is cut into b x b
 * blocks; every block-row stores the same number {@code ellBlocks} of blocks (the most any
 * block-row needs), padding with empty slots. {@code blockCols} [blockRows, ellBlocks] gives each
 * slot's block-column (-1 when empty) and {@code values} [blockRows*b, ellBlocks*b] the blocks
 * side by side, row-major. Rows and columns are padded up to a multiple of b (padding is zero).
 * Zeros inside kept blocks are stored, so conversion is exact; the format pays off only for
 * block-structured sparsity (block pruning), which the planner decides by measuring.
 */
public final class BlockedEllMatrix extends SparseMatrix {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();

    private final int block;
    private final int blockRows;
    private final int ellBlocks;
    /** block-column of each slot or -1, [blockRows, ellBlocks] */
    private final int[] blockCols;
    /** block values, [blockRows * block, ellBlocks * block] row-major */
    private final float[] values;
    /** work per block-row (kept blocks), as cumulative counts for load balancing, [blockRows + 1] */
    private final int[] work;
    private final long nonZeros;

    private BlockedEllMatrix(int rows, int cols, int block, int ellBlocks, int[] blockCols, float[] values, long nonZeros) {
        super(rows, cols);
        this.block = block;
        this.blockRows = (rows + block - 1) / block;
        this.ellBlocks = ellBlocks;
        this.blockCols = blockCols;
        this.values = values;
        this.nonZeros = nonZeros;
        this.work = new int[blockRows + 1];
        for (int br = 0; br < blockRows; br++) {
            int kept = 0;
            for (int e = 0; e < ellBlocks; e++) if (blockCols[br * ellBlocks + e] >= 0) kept++;
            work[br + 1] = work[br] + kept;
        }
    }

    /** From a dense row-major A [rows, cols] with blocks of {@code block x block}. */
    public static BlockedEllMatrix fromDense(float[] dense, int rows, int cols, int block) {
        BlockScan scan = BlockScan.of(dense, rows, cols, block);
        int br = scan.blockRows(), bc = scan.blockCols(), ell = scan.ellBlocks();
        boolean[] kept = scan.kept();
        long nz = scan.nonZeros();
        long size = (long) br * block * ell * block;
        if (size > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("Blocked-ELL with block " + block + " would store " + size + " values (too many for one array); use CSR");
        int[] cols2 = new int[br * ell];
        java.util.Arrays.fill(cols2, -1);
        float[] vals = new float[(int) size];
        int ld = ell * block;
        for (int i = 0; i < br; i++) {
            int e = 0;
            for (int j = 0; j < bc; j++) {
                if (!kept[i * bc + j]) continue;
                cols2[i * ell + e] = j;
                for (int r = i * block; r < Math.min(rows, (i + 1) * block); r++)
                    for (int c = j * block; c < Math.min(cols, (j + 1) * block); c++)
                        vals[r * ld + e * block + (c - j * block)] = dense[r * cols + c];
                e++;
            }
        }
        return new BlockedEllMatrix(rows, cols, block, ell, cols2, vals, nz);
    }

    /** From a Dense layer's kernel W [in, out]: A = W^T [out, in], see {@link SparseMatrix}. */
    public static BlockedEllMatrix fromKernel(float[] kernel, int in, int out, int block) {
        return fromDense(fromDenseKernel(kernel, in, out), out, in, block);
    }

    /** Stored values over nonzeros: 1 for perfectly block-sparse matrices, up to b*b for scattered ones. */
    public static double fillRatio(float[] dense, int rows, int cols, int block) {
        BlockScan scan = BlockScan.of(dense, rows, cols, block);
        long nz = scan.nonZeros();
        return nz == 0 ? 1.0 : (double) scan.blockRows() * block * scan.ellBlocks() * block / nz;
    }

    /**
     * Which b x b blocks of a dense A hold a nonzero ({@code kept}, [blockRows, blockCols]), the
     * nonzero count, and the slots per block-row (the most kept blocks in any block-row, at least
     * one: an all-zero matrix still has one empty slot per block-row).
     */
    private record BlockScan(int blockRows, int blockCols, boolean[] kept, long nonZeros, int ellBlocks) {
        static BlockScan of(float[] dense, int rows, int cols, int block) {
            checkDense(dense, rows, cols);
            if (block < 1) throw new IllegalArgumentException("Blocked-ELL block size must be >= 1, got " + block);
            int br = (rows + block - 1) / block, bc = (cols + block - 1) / block;
            boolean[] kept = new boolean[br * bc];
            long nz = 0;
            int ell = 0;
            for (int i = 0; i < br; i++) {
                int count = 0;
                for (int j = 0; j < bc; j++) {
                    boolean any = false;
                    for (int r = i * block; r < Math.min(rows, (i + 1) * block); r++)
                        for (int c = j * block; c < Math.min(cols, (j + 1) * block); c++)
                            if (dense[r * cols + c] != 0f) {
                                any = true;
                                nz++;
                            }
                    kept[i * bc + j] = any;
                    if (any) count++;
                }
                ell = Math.max(ell, count);
            }
            return new BlockScan(br, bc, kept, nz, Math.max(ell, 1));
        }
    }

    public int blockSize() { return block; }
    /** Slots per block-row (cuSPARSE's ellCols is this times the block size). */
    public int ellBlocks() { return ellBlocks; }
    public int[] blockColumns() { return blockCols.clone(); }
    public float[] blockValues() { return values.clone(); }

    @Override public SparseFormat format() { return SparseFormat.BLOCKED_ELL; }
    @Override public long nonZeros() { return nonZeros; }
    @Override public long storageBytes() { return 4L * (blockCols.length + values.length); }

    @Override public float[] toDense() {
        float[] d = new float[rows * cols];
        int ld = ellBlocks * block;
        for (int i = 0; i < blockRows; i++)
            for (int e = 0; e < ellBlocks; e++) {
                int j = blockCols[i * ellBlocks + e];
                if (j < 0) continue;
                for (int r = i * block; r < Math.min(rows, (i + 1) * block); r++)
                    for (int c = j * block; c < Math.min(cols, (j + 1) * block); c++)
                        d[r * cols + c] = values[r * ld + e * block + (c - j * block)];
            }
        return d;
    }

    @Override protected void product(float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy, int ys) {
        long minBlocks = Math.max(1, 32 * 1024 / ((long) n * block * block));
        int[] map = ys == 1 ? null : scatterMap(ys, VL);
        forRowsByWork(blockRows, work, minBlocks, (b0, b1) -> {
            for (int i = b0; i < b1; i++) blockRow(i, x, xOff, ldx, n, y, yOff, ldy, ys, map);
        });
    }

    /** Rows of block-row i: Y[r, :] = sum over kept blocks and their b columns of v * X[c, :]. */
    private void blockRow(int i, float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy, int ys, int[] map) {
        int ld = ellBlocks * block;
        int rEnd = Math.min(rows, (i + 1) * block);
        for (int r = i * block; r < rEnd; r++) {
            int yr = yOff + r * ldy;
            for (int j = 0; j < n; j += VL) {
                VectorMask<Float> mask = S.indexInRange(j, n);
                boolean full = j + VL <= n;
                FloatVector acc = FloatVector.zero(S);
                float s = 0f;
                for (int e = 0; e < ellBlocks; e++) {
                    int bcol = blockCols[i * ellBlocks + e];
                    if (bcol < 0) continue;
                    int c0 = bcol * block, cEnd = Math.min(cols, c0 + block);
                    int vo = r * ld + e * block - c0;
                    for (int c = c0; c < cEnd; c++) {
                        float v = values[vo + c];
                        if (v == 0f) continue;
                        int xr = xOff + c * ldx + j;
                        if (n == 1) s += v * x[xr];
                        else if (full) acc = FloatVector.fromArray(S, x, xr).fma(FloatVector.broadcast(S, v), acc);
                        else acc = FloatVector.fromArray(S, x, xr, mask).fma(FloatVector.broadcast(S, v), acc);
                    }
                }
                if (n == 1) y[yr] = s;
                else if (ys != 1 && full) acc.intoArray(y, yr + j * ys, map, 0);
                else if (ys != 1) for (int t = 0; t < n - j; t++) y[yr + (j + t) * ys] = acc.lane(t);
                else if (full) acc.intoArray(y, yr + j);
                else acc.intoArray(y, yr + j, mask);
            }
        }
    }
}
