package dev.shears.core.sparse;

import dev.shears.core.cpu.Lanes;
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
    /**
     * The low 8 lanes, for the rows of 8-wide blocks when the preferred vectors are wider (batch 1):
     * masked loads into the one accumulator, whose lanes {@link Lanes#sum} adds in a fixed order
     * (a second, 8-lane accumulator would need {@code reduceLanes}, whose order the JIT changes).
     */
    static final VectorMask<Float> LOW8 = S.indexInRange(0, 8);

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
        if (n == 1) {
            forRowsByWork(blockRows, work, minBlocks, (b0, b1) -> {
                for (int i = b0; i < b1; i++) blockRowVector(i, x, xOff, ldx, y, yOff, ldy);
            });
            return;
        }
        int[] map = ys == 1 ? null : scatterMap(ys, 4 * VL);
        forRowsByWork(blockRows, work, minBlocks, (b0, b1) -> {
            for (int i = b0; i < b1; i++) blockRowBatch(i, x, xOff, ldx, n, y, yOff, ldy, ys, map);
        });
    }

    /**
     * One vector (n = 1): y[r] = sum over the kept blocks of block-row i of the dot product of the
     * block's row r with x[c0 .. c0+b); with contiguous x (ldx = 1) a block row is VL-wide vector
     * FMAs (one for b = 16 on 512-bit vectors), then 8-lane masked ones (b = 8), then scalar.
     */
    private void blockRowVector(int i, float[] x, int xOff, int ldx, float[] y, int yOff, int ldy) {
        int ld = ellBlocks * block;
        int rEnd = Math.min(rows, (i + 1) * block);
        for (int r = i * block; r < rEnd; r++) {
            FloatVector acc = FloatVector.zero(S);
            float s = 0f;
            for (int e = 0; e < ellBlocks; e++) {
                int bcol = blockCols[i * ellBlocks + e];
                if (bcol < 0) continue;
                int c0 = bcol * block, len = Math.min(cols, c0 + block) - c0;
                int vo = r * ld + e * block;
                int k = 0;
                if (ldx == 1) {
                    for (; k + VL <= len; k += VL)
                        acc = FloatVector.fromArray(S, values, vo + k).fma(FloatVector.fromArray(S, x, xOff + c0 + k), acc);
                    for (; k + 8 <= len; k += 8) // only when VL > 8: the loop above leaves fewer than VL
                        acc = FloatVector.fromArray(S, values, vo + k, LOW8).fma(FloatVector.fromArray(S, x, xOff + c0 + k, LOW8), acc);
                }
                for (; k < len; k++) s += values[vo + k] * x[xOff + (c0 + k) * ldx];
            }
            y[yOff + r * ldy] = s + Lanes.sum(acc);
        }
    }

    /**
     * A batch: Y[r, :] = sum over the kept blocks and their columns c of v * X[c, :], with Y[r, j]
     * at y[yOff + r*ldy + j*ys] (scattered through {@code map} when ys != 1). Laid out as
     * {@link CsrMatrix#spmm}: four accumulators over 4 VL batch columns, then one, then a masked
     * tail, each store written out in its branch (a helper taking the accumulators would box them).
     */
    private void blockRowBatch(int i, float[] x, int xOff, int ldx, int n, float[] y, int yOff, int ldy, int ys, int[] map) {
        int ld = ellBlocks * block;
        int rEnd = Math.min(rows, (i + 1) * block);
        int n4 = n - n % (4 * VL);
        int n1 = n - n % VL;
        int slots = i * ellBlocks;
        for (int r = i * block; r < rEnd; r++) {
            int yr = yOff + r * ldy;
            int j = 0;
            for (; j < n4; j += 4 * VL) {
                FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
                FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
                for (int e = 0; e < ellBlocks; e++) {
                    int bcol = blockCols[slots + e];
                    if (bcol < 0) continue;
                    int c0 = bcol * block, len = Math.min(cols, c0 + block) - c0;
                    int vo = r * ld + e * block;
                    for (int k = 0; k < len; k++) {
                        FloatVector v = FloatVector.broadcast(S, values[vo + k]);
                        int xr = xOff + (c0 + k) * ldx + j;
                        a0 = FloatVector.fromArray(S, x, xr).fma(v, a0);
                        a1 = FloatVector.fromArray(S, x, xr + VL).fma(v, a1);
                        a2 = FloatVector.fromArray(S, x, xr + 2 * VL).fma(v, a2);
                        a3 = FloatVector.fromArray(S, x, xr + 3 * VL).fma(v, a3);
                    }
                }
                if (ys == 1) {
                    a0.intoArray(y, yr + j);
                    a1.intoArray(y, yr + j + VL);
                    a2.intoArray(y, yr + j + 2 * VL);
                    a3.intoArray(y, yr + j + 3 * VL);
                } else {
                    a0.intoArray(y, yr + j * ys, map, 0);
                    a1.intoArray(y, yr + j * ys, map, VL);
                    a2.intoArray(y, yr + j * ys, map, 2 * VL);
                    a3.intoArray(y, yr + j * ys, map, 3 * VL);
                }
            }
            for (; j < n1; j += VL) {
                FloatVector a0 = FloatVector.zero(S);
                for (int e = 0; e < ellBlocks; e++) {
                    int bcol = blockCols[slots + e];
                    if (bcol < 0) continue;
                    int c0 = bcol * block, len = Math.min(cols, c0 + block) - c0;
                    int vo = r * ld + e * block;
                    for (int k = 0; k < len; k++)
                        a0 = FloatVector.fromArray(S, x, xOff + (c0 + k) * ldx + j).fma(FloatVector.broadcast(S, values[vo + k]), a0);
                }
                if (ys == 1) a0.intoArray(y, yr + j);
                else a0.intoArray(y, yr + j * ys, map, 0);
            }
            if (j < n) {
                VectorMask<Float> m = S.indexInRange(j, n);
                FloatVector a0 = FloatVector.zero(S);
                for (int e = 0; e < ellBlocks; e++) {
                    int bcol = blockCols[slots + e];
                    if (bcol < 0) continue;
                    int c0 = bcol * block, len = Math.min(cols, c0 + block) - c0;
                    int vo = r * ld + e * block;
                    for (int k = 0; k < len; k++)
                        a0 = FloatVector.fromArray(S, x, xOff + (c0 + k) * ldx + j, m).fma(FloatVector.broadcast(S, values[vo + k]), a0);
                }
                if (ys == 1) a0.intoArray(y, yr + j, m);
                else for (int t = 0; t < n - j; t++) y[yr + (j + t) * ys] = a0.lane(t); // a masked scatter checks every lane's index
            }
        }
    }
}
