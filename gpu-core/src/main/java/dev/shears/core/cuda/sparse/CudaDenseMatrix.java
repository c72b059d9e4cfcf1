package dev.shears.core.cuda.sparse;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.Tensor;

/**
 * The dense baseline: cuBLAS SGEMM (through the backend's {@code gemm}, the op the layers run) on
 * a weight tensor the layer owns, borrowed and never freed here. {@code kernelLayout}: the tensor
 * is stored [cols, rows] (a Dense kernel W [in, out]); otherwise [rows, cols] (a convolution's
 * [out, in*kh*kw]).
 */
public final class CudaDenseMatrix extends CudaSparseMatrix {
    private final Backend backend;
    /** A, [rows, cols], or [cols, rows] when kernelLayout */
    private final Tensor a;
    private final boolean kernelLayout;

    public CudaDenseMatrix(Backend backend, Tensor a, int rows, int cols, boolean kernelLayout) {
        super(rows, cols);
        if (a.size() != (long) rows * cols)
            throw new IllegalArgumentException("dense weights " + a.shape() + " are not " + rows + " x " + cols);
        this.backend = backend;
        this.a = a;
        this.kernelLayout = kernelLayout;
    }

    @Override public String format() { return "dense"; }
    @Override public String kernel() { return "cublas-sgemm"; }
    @Override public long storageBytes() { return 4L * rows * cols; }

    @Override public void multiply(Tensor x, int n, Tensor y) {
        checkMultiply(x, n, y);
        // Y [n, rows] = X [n, cols] W with W = A^T stored [cols, rows] (kernelLayout), else X A^T
        backend.gemm(false, !kernelLayout, n, rows, cols, 1f, x, a, 0f, y);
    }

    @Override public void multiplyT(Tensor x, long xOffset, int n, Tensor y, long yOffset) {
        checkMultiplyT(x, xOffset, n, y, yOffset);
        backend.gemm(kernelLayout, false, rows, n, cols, 1f, a, 0, 0, x, xOffset, 0, 0f, y, yOffset, 0, 1);
    }

    @Override public void close() {} // borrowed
}
