package dev.shears.pruning;

import dev.shears.core.tensor.Shape;

/**
 * How a kernel is cut into R x C blocks for block pruning: in the matrix A that sparse inference
 * multiplies ({@code dev.shears.core.sparse.SparsePlanner}), so a pruned block is exactly a
 * Blocked-ELL block there:
 * <ul>
 *   <li>Dense kernel W [in, out] (y = x W): A = W^T [out, in] (as {@code SparseMatrix.fromDenseKernel}
 *       builds it), so A[r, c] is W[c, r], the flat element {@code c*out + r};</li>
 *   <li>Conv2D kernel [out, in, kh, kw]: A = [out, in*kh*kw], the kernel itself read row-major (the
 *       im2col GEMM's A, as {@code SparsePlanner.chooseConv} takes it), A[r, c] the flat element
 *       {@code r*in*kh*kw + c}.</li>
 * </ul>
 * Blocks tile A from (0, 0): block (i, j) covers rows iR..iR+R-1 and columns jC..jC+C-1. Where R
 * does not divide the rows or C the columns, the last block-row or block-column is partial
 * (fewer elements), as Blocked-ELL pads it; its score is a mean, so it competes fairly. Blocks are
 * numbered row-major over the block grid: {@code i * blockCols + j}.
 *
 * @param rows      rows of A (output units / channels)
 * @param cols      columns of A (inputs; in*kh*kw for Conv2D)
 * @param r         block height R
 * @param c         block width C
 * @param transpose true for a Dense kernel, whose A is W^T
 */
public record BlockLayout(int rows, int cols, int r, int c, boolean transpose) {

    /** @throws IllegalArgumentException naming the parameter when its shape is neither a Dense nor a Conv2D kernel */
    public static BlockLayout of(String name, Shape s, int r, int c) {
        return switch (s.rank()) {
            case 2 -> new BlockLayout(s.dim(1), s.dim(0), r, c, true);
            case 4 -> new BlockLayout(s.dim(0), (int) s.sizeFrom(1), r, c, false);
            default -> throw new IllegalArgumentException(name + " has shape " + s + ": block pruning takes Dense kernels [in, out] "
                    + "and Conv2D kernels [out, in, kh, kw] only (exclude it from the modifier's params)");
        };
    }

    public int blockRows() { return (rows + r - 1) / r; }

    public int blockCols() { return (cols + c - 1) / c; }

    /** B, the number of blocks (partial edge blocks included). */
    public int blocks() { return blockRows() * blockCols(); }

    /** Flat index in the kernel of A[row, col]. */
    public int index(int row, int col) { return transpose ? col * rows + row : row * cols + col; }

    /** The block holding the kernel's flat element {@code i}. */
    public int blockOf(int i) {
        int row = transpose ? i % rows : i / cols, col = transpose ? i / rows : i % cols;
        return (row / r) * blockCols() + col / c;
    }

    /** Elements of block {@code b} (R*C, fewer for a partial edge block). */
    public int blockSize(int b) {
        int i = b / blockCols(), j = b % blockCols();
        return (Math.min(rows, (i + 1) * r) - i * r) * (Math.min(cols, (j + 1) * c) - j * c);
    }

    /** Mean |w| of each block, [blocks]; summed in double so that ties are not rounding artefacts. */
    public double[] meanAbs(float[] w) {
        double[] sum = new double[blocks()];
        for (int i = 0; i < w.length; i++) sum[blockOf(i)] += Math.abs(w[i]);
        for (int b = 0; b < sum.length; b++) sum[b] /= blockSize(b);
        return sum;
    }

    /** Whether every element of each block is masked (0 in {@code mask}), [blocks]. */
    public boolean[] maskedBlocks(byte[] mask) {
        boolean[] any = new boolean[blocks()];
        for (int i = 0; i < mask.length; i++) if (mask[i] != 0) any[blockOf(i)] = true;
        for (int b = 0; b < any.length; b++) any[b] = !any[b];
        return any;
    }

    /** Sets the mask of every element of block {@code b} to 0. */
    public void clear(byte[] mask, int b) {
        int i = b / blockCols(), j = b % blockCols();
        for (int row = i * r; row < Math.min(rows, (i + 1) * r); row++)
            for (int col = j * c; col < Math.min(cols, (j + 1) * c); col++) mask[index(row, col)] = 0;
    }
}
