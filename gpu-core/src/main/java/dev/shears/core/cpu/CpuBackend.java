package dev.shears.core.cpu;

import dev.shears.core.backend.ArgumentChecks;

import dev.shears.core.backend.Activation;
import dev.shears.core.backend.Backend;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.List;

import static dev.shears.core.cpu.CpuTensor.b;
import static dev.shears.core.cpu.CpuTensor.f;
import static dev.shears.core.cpu.CpuTensor.i;
import static dev.shears.core.backend.ArgumentChecks.*;

/**
 * The reference backend: tensors in Java heap arrays, matrix products through {@link Sgemm},
 * element-wise loops with the Vector API where they are hot (bias, ReLU, updates), plain scalar
 * loops elsewhere. Every other backend is tested against this one ({@code BackendContractTest}).
 *
 * <p>Conventions beyond the {@link Backend} Javadoc that other backends must reproduce:
 * <ul>
 *   <li>dropout: the generator and scaling of {@link DropoutHash};</li>
 *   <li>magnitude thresholds: the radix select of {@link MagnitudeSelect}, comparisons on the bit
 *       pattern of |w| (so -0 == 0, and NaN counts as the largest magnitude);</li>
 *   <li>max pooling: the first maximum in window order (row-major) wins; a window with no
 *       in-bounds element outputs 0 with arg-max -1 (never produced by valid geometries);</li>
 *   <li>batch norm with one value per channel (outer*inner == 1): the running variance takes the
 *       biased variance (0) instead of dividing by zero;</li>
 *   <li>Adam's bias corrections {@code 1 - beta^t} are computed in double, then rounded to float.</li>
 * </ul>
 */
public final class CpuBackend implements Backend {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private final int threads;

    /**
     * @param threads the parallelism this backend reports in {@link #name()}; the work itself runs
     *                on {@link Parallel}'s pool, sized by the {@code shears.threads} system property
     *                (default: every available processor), so pass {@link Parallel#threads()}
     *                unless you are labelling a run made with that property set
     */
    public CpuBackend(int threads) {
        if (threads < 1) throw new IllegalArgumentException("CpuBackend needs at least one thread, got " + threads);
        this.threads = threads;
    }

    /** A backend on {@link Parallel}'s pool ({@code shears.threads}, else every available processor). */
    public static CpuBackend create() {
        return new CpuBackend(Parallel.threads());
    }

    public int threads() { return threads; }

    @Override public String name() {
        return "cpu (" + threads + (threads == 1 ? " thread, " : " threads, ") + S.vectorBitSize() + "-bit vectors)";
    }

    @Override public String kind() { return "cpu"; }

    // ================================================================ memory

    @Override public Tensor allocate(Shape shape, DType dtype) { return CpuTensor.allocate(this, shape, dtype); }

    @Override public Tensor upload(float[] host, Shape shape) {
        int n = shape.intSize();
        if (host.length < n) throw new IllegalArgumentException("upload: " + host.length + " floats for shape " + shape);
        return new CpuTensor(this, shape, DType.FLOAT32, java.util.Arrays.copyOf(host, n), null, null);
    }

    @Override public Tensor uploadBytes(byte[] host, Shape shape) {
        int n = shape.intSize();
        if (host.length < n) throw new IllegalArgumentException("uploadBytes: " + host.length + " bytes for shape " + shape);
        return new CpuTensor(this, shape, DType.UINT8, null, null, java.util.Arrays.copyOf(host, n));
    }

    @Override public Tensor uploadInts(int[] host, Shape shape) {
        int n = shape.intSize();
        if (host.length < n) throw new IllegalArgumentException("uploadInts: " + host.length + " ints for shape " + shape);
        return new CpuTensor(this, shape, DType.INT32, null, java.util.Arrays.copyOf(host, n), null);
    }

    @Override public void download(Tensor src, long srcOffset, float[] dst, int dstOffset, int count) {
        float[] s = f(src);
        checkRange("download", src, srcOffset, count);
        System.arraycopy(s, (int) srcOffset, dst, dstOffset, count);
    }

    @Override public byte[] downloadBytes(Tensor src) { return b(src).clone(); }

    @Override public void write(float[] src, int srcOffset, Tensor dst, long dstOffset, int count) {
        float[] d = f(dst);
        checkRange("write", dst, dstOffset, count);
        System.arraycopy(src, srcOffset, d, (int) dstOffset, count);
    }

    @Override public void copy(Tensor src, long srcOffset, Tensor dst, long dstOffset, long count) {
        if (src.dtype() != dst.dtype()) throw new IllegalArgumentException("copy " + src + " -> " + dst + ": dtypes differ");
        checkRange("copy (source)", src, srcOffset, count);
        checkRange("copy (destination)", dst, dstOffset, count);
        int so = (int) srcOffset, d0 = (int) dstOffset, n = (int) count;
        switch (src.dtype()) {
            case FLOAT32 -> System.arraycopy(f(src), so, f(dst), d0, n);
            case INT32 -> System.arraycopy(i(src), so, i(dst), d0, n);
            case UINT8 -> System.arraycopy(b(src), so, b(dst), d0, n);
        }
    }

    @Override public void fill(Tensor t, float value) {
        int n = t.shape().intSize();
        switch (t.dtype()) {
            case FLOAT32 -> java.util.Arrays.fill(f(t), 0, n, value);
            case INT32 -> java.util.Arrays.fill(i(t), 0, n, (int) value);
            case UINT8 -> java.util.Arrays.fill(b(t), 0, n, (byte) (int) value);
        }
    }

    @Override public void synchronize() {}

    @Override public void close() {}

    // ================================================================ dense math

    @Override public void gemm(boolean transA, boolean transB, int m, int n, int k,
                               float alpha, Tensor a, long aOffset, long strideA,
                               Tensor bt, long bOffset, long strideB,
                               float beta, Tensor c, long cOffset, long strideC, int batch) {
        if (m < 0 || n < 0 || k < 0 || batch < 0) throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k + " batch=" + batch);
        if (m == 0 || n == 0 || batch == 0) return;
        float[] A = f(a), B = f(bt), C = f(c);
        checkMatrices("gemm A", a, aOffset, strideA, (long) m * k, batch, k == 0);
        checkMatrices("gemm B", bt, bOffset, strideB, (long) k * n, batch, k == 0);
        checkMatrices("gemm C", c, cOffset, strideC, (long) m * n, batch, false);
        int lda = transA ? m : k, ldb = transB ? k : n;
        Parallel.TaskBody one = bi -> {
            int ao = (int) (aOffset + bi * strideA), bo = (int) (bOffset + bi * strideB), co = (int) (cOffset + bi * strideC);
            Sgemm.gemm(transA, transB, m, n, k, alpha, A, ao, lda, B, bo, ldb, beta, C, co, n);
        };
        // many small products (a convolution over a chunk of images): one task each, in parallel,
        // when their C blocks are disjoint; big products parallelise inside Sgemm instead
        boolean disjointC = strideC >= (long) m * n;
        if (batch > 1 && disjointC && 2L * m * n * k < Sgemm.PARALLEL_MIN_FLOPS) {
            Parallel.forTasks(batch, one);
        } else {
            for (int bi = 0; bi < batch; bi++) one.run(bi);
        }
    }

    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        float[] X = f(x), Y = f(y);
        int n = sameSize("axpy", x, y);
        int j = 0;
        FloatVector av = FloatVector.broadcast(S, alpha);
        for (int ub = S.loopBound(n); j < ub; j += S.length())
            FloatVector.fromArray(S, X, j).fma(av, FloatVector.fromArray(S, Y, j)).intoArray(Y, j);
        for (; j < n; j++) Y[j] = Math.fma(X[j], alpha, Y[j]);
    }

    @Override public void scale(Tensor x, float alpha) {
        float[] X = f(x);
        int n = x.shape().intSize(), j = 0;
        for (int ub = S.loopBound(n); j < ub; j += S.length()) FloatVector.fromArray(S, X, j).mul(alpha).intoArray(X, j);
        for (; j < n; j++) X[j] *= alpha;
    }

    @Override public void add(Tensor a, Tensor bt, Tensor out) {
        float[] A = f(a), B = f(bt), O = f(out);
        int n = sameSize("add", a, bt);
        sameSize("add", a, out);
        int j = 0;
        for (int ub = S.loopBound(n); j < ub; j += S.length())
            FloatVector.fromArray(S, A, j).add(FloatVector.fromArray(S, B, j)).intoArray(O, j);
        for (; j < n; j++) O[j] = A[j] + B[j];
    }

    @Override public void mul(Tensor a, Tensor bt, Tensor out) {
        float[] A = f(a), B = f(bt), O = f(out);
        int n = sameSize("mul", a, bt);
        sameSize("mul", a, out);
        int j = 0;
        for (int ub = S.loopBound(n); j < ub; j += S.length())
            FloatVector.fromArray(S, A, j).mul(FloatVector.fromArray(S, B, j)).intoArray(O, j);
        for (; j < n; j++) O[j] = A[j] * B[j];
    }

    @Override public void addBias(Tensor x, Tensor bias, int outer, int channels, int inner) {
        float[] X = f(x), Bv = f(bias);
        checkLayout("addBias", x, outer, channels, inner);
        checkSize("addBias bias", bias, channels);
        if (inner == 1) {
            for (int o = 0; o < outer; o++) {
                int base = o * channels, c = 0;
                for (int ub = S.loopBound(channels); c < ub; c += S.length())
                    FloatVector.fromArray(S, X, base + c).add(FloatVector.fromArray(S, Bv, c)).intoArray(X, base + c);
                for (; c < channels; c++) X[base + c] += Bv[c];
            }
            return;
        }
        for (int o = 0; o < outer; o++) {
            for (int c = 0; c < channels; c++) {
                int base = (o * channels + c) * inner, j = 0;
                float bv = Bv[c];
                for (int ub = S.loopBound(inner); j < ub; j += S.length())
                    FloatVector.fromArray(S, X, base + j).add(bv).intoArray(X, base + j);
                for (; j < inner; j++) X[base + j] += bv;
            }
        }
    }

    @Override public void biasGrad(Tensor dy, Tensor dBias, int outer, int channels, int inner, boolean accumulate) {
        float[] D = f(dy), G = f(dBias);
        checkLayout("biasGrad", dy, outer, channels, inner);
        checkSize("biasGrad dBias", dBias, channels);
        if (!accumulate) java.util.Arrays.fill(G, 0, channels, 0f);
        if (inner == 1) {
            for (int o = 0; o < outer; o++) {
                int base = o * channels, c = 0;
                for (int ub = S.loopBound(channels); c < ub; c += S.length())
                    FloatVector.fromArray(S, D, base + c).add(FloatVector.fromArray(S, G, c)).intoArray(G, c);
                for (; c < channels; c++) G[c] += D[base + c];
            }
            return;
        }
        for (int c = 0; c < channels; c++) {
            float s = 0;
            for (int o = 0; o < outer; o++) {
                int base = (o * channels + c) * inner, j = 0;
                FloatVector acc = FloatVector.zero(S);
                for (int ub = S.loopBound(inner); j < ub; j += S.length()) acc = acc.add(FloatVector.fromArray(S, D, base + j));
                float part = Lanes.sum(acc);
                for (; j < inner; j++) part += D[base + j];
                s += part;
            }
            G[c] += s;
        }
    }

    @Override public double sum(Tensor x) {
        float[] X = f(x);
        int n = x.shape().intSize();
        double s = 0;
        for (int j = 0; j < n; j++) s += X[j];
        return s;
    }

    @Override public double sumSquares(Tensor x) {
        float[] X = f(x);
        int n = x.shape().intSize();
        double s = 0;
        for (int j = 0; j < n; j++) s += (double) X[j] * X[j];
        return s;
    }

    // ================================================================ activations, losses

    @Override public void activation(Activation fn, float alpha, float beta, Tensor x, Tensor y) {
        int n = sameSize("activation " + fn, x, y);
        CpuActivations.forward(fn, alpha, beta, f(x), f(y), n);
    }

    @Override public void activationBackward(Activation fn, float alpha, float beta, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        int n = sameSize("activationBackward " + fn, x, dy);
        sameSize("activationBackward " + fn, x, dx);
        sameSize("activationBackward " + fn, x, y);
        CpuActivations.backward(fn, alpha, beta, f(x), f(y), f(dy), f(dx), n);
    }

    @Override public void prelu(Tensor x, Tensor slope, Tensor y, int outer, int channels, int inner) {
        float[] X = f(x), A = f(slope), Y = f(y);
        checkLayout("prelu", x, outer, channels, inner);
        checkLayout("prelu", y, outer, channels, inner);
        checkSize("prelu slope", slope, channels);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++) {
                float a = A[c];
                for (int j = 0, p = (o * channels + c) * inner; j < inner; j++, p++) {
                    float v = X[p];
                    Y[p] = v > 0 ? v : a * v;
                }
            }
    }

    @Override public void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, Tensor dSlope, int outer, int channels, int inner) {
        float[] X = f(x), A = f(slope), D = f(dy), DX = f(dx), DS = f(dSlope);
        checkLayout("preluBackward", x, outer, channels, inner);
        checkLayout("preluBackward", dy, outer, channels, inner);
        checkLayout("preluBackward", dx, outer, channels, inner);
        checkSize("preluBackward slope", slope, channels);
        checkSize("preluBackward dSlope", dSlope, channels);
        for (int c = 0; c < channels; c++) {
            float a = A[c];
            double ds = 0;
            for (int o = 0; o < outer; o++)
                for (int j = 0, p = (o * channels + c) * inner; j < inner; j++, p++) {
                    float v = X[p], g = D[p];
                    if (v > 0) {
                        DX[p] = g;
                    } else {
                        DX[p] = a * g;
                        ds += (double) g * v;
                    }
                }
            DS[c] += (float) ds;
        }
    }

    /** The largest of X[base .. base + cols) (the shift that keeps a row's exponentials finite). */
    private static float rowMax(float[] X, int base, int cols) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) max = Math.max(max, X[base + j]);
        return max;
    }

    /** The sum in double of exp(X[j] - max) over X[base .. base + cols): logSoftmax's and the cross-entropy's denominator. */
    private static double expSum(float[] X, int base, int cols, float max) {
        double s = 0;
        for (int j = 0; j < cols; j++) s += Math.exp(X[base + j] - max);
        return s;
    }

    @Override public void softmax(Tensor x, Tensor y, int rows, int cols) {
        float[] X = f(x), Y = f(y);
        checkRows("softmax", rows, cols, "x", x, "y", y);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            float max = rowMax(X, base, cols);
            double s = 0;
            for (int j = 0; j < cols; j++) {
                float e = (float) Math.exp(X[base + j] - max);
                Y[base + j] = e;
                s += e;
            }
            float inv = (float) (1.0 / s);
            for (int j = 0; j < cols; j++) Y[base + j] *= inv;
        }
    }

    @Override public void logSoftmax(Tensor x, Tensor y, int rows, int cols) {
        float[] X = f(x), Y = f(y);
        checkRows("logSoftmax", rows, cols, "x", x, "y", y);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            float max = rowMax(X, base, cols);
            double s = expSum(X, base, cols, max);
            float lse = (float) (max + Math.log(s));
            for (int j = 0; j < cols; j++) Y[base + j] = X[base + j] - lse;
        }
    }

    @Override public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        float[] Y = f(y), D = f(dy), DX = f(dx);
        checkRows("softmaxBackward", rows, cols, "y", y, "dy", dy, "dx", dx);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double dot = 0;
            for (int j = 0; j < cols; j++) dot += (double) D[base + j] * Y[base + j];
            float d = (float) dot;
            for (int j = 0; j < cols; j++) DX[base + j] = Y[base + j] * (D[base + j] - d);
        }
    }

    @Override public void logSoftmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        checkRows("logSoftmaxBackward", rows, cols, "y", y, "dy", dy, "dx", dx);
        HostKernels.logSoftmaxBackward(f(y), f(dy), f(dx), rows, cols);
    }

    @Override public double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, float gradScale, int rows, int cols) {
        float[] X = f(logits);
        int[] L = i(labels);
        float[] D = dLogits == null ? null : f(dLogits);
        checkCrossEntropy(logits, labels, dLogits, rows, cols);
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * cols, label = L[r];
            if (label < 0 || label >= cols)
                throw new IllegalArgumentException("softmaxCrossEntropy: label " + label + " of row " + r + " outside [0, " + cols + ")");
            float max = rowMax(X, base, cols);
            double s = expSum(X, base, cols, max);
            // log(sum) - (x[label] - max), not log(sum) + max - x[label]: the float difference is exact
            // in double, while a sum with max loses log(sum) for logits near 1e17 and above (a real
            // ImageNet graph with placeholder weights gave equal logits of that size, and loss 0)
            loss += Math.log(s) - ((double) X[base + label] - max);
            if (D != null) {
                double inv = 1.0 / s;
                for (int j = 0; j < cols; j++) {
                    float p = (float) (Math.exp(X[base + j] - max) * inv);
                    D[base + j] = (p - (j == label ? 1f : 0f)) * gradScale;
                }
            }
        }
        return loss;
    }

    /**
     * Knowledge distillation's soft-target term (Hinton, Vinyals and Dean 2015), in double per row:
     * with p = softmax(t/T) and q = softmax(s/T) computed as log-softmaxes (so extreme logits give
     * zeros, never NaN), T^2 * sum_j p_j (log p_j - log q_j), and dLogits += weight * T * (q - p) * gradScale.
     */
    @Override public double distillation(Tensor studentLogits, Tensor teacherLogits, Tensor dLogits, float weight, float temperature,
                                         float gradScale, int rows, int cols) {
        checkDistillation(studentLogits, teacherLogits, dLogits, weight, temperature, rows, cols);
        float[] S = f(studentLogits), T = f(teacherLogits);
        float[] D = dLogits == null ? null : f(dLogits);
        double invT = 1.0 / temperature, scale = (double) weight * temperature * gradScale;
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            // x/T - max(x/T) as (x - max(x)) / T, as the kernel (where it keeps float precision for large logits)
            double mt = rowMax(T, base, cols), ms = rowMax(S, base, cols);
            double st = 0, ss = 0;
            for (int j = 0; j < cols; j++) {
                st += Math.exp((T[base + j] - mt) * invT);
                ss += Math.exp((S[base + j] - ms) * invT);
            }
            double lt = Math.log(st), ls = Math.log(ss); // log of each softmax's denominator, apart from the max (as the kernel)
            double kl = 0;
            for (int j = 0; j < cols; j++) {
                double logP = (T[base + j] - mt) * invT - lt, logQ = (S[base + j] - ms) * invT - ls;
                double p = Math.exp(logP);
                if (p > 0) kl += p * (logP - logQ); // p = 0 adds nothing (as the kernel, where 0 * (-inf - -inf) is NaN)
                if (D != null) D[base + j] += (float) (scale * (Math.exp(logQ) - p));
            }
            loss += (double) temperature * temperature * kl;
        }
        return loss;
    }

    @Override public int countCorrect(Tensor logits, Tensor labels, int rows, int cols) {
        float[] X = f(logits);
        int[] L = i(labels);
        checkCountCorrect(logits, labels, rows, cols);
        int correct = 0;
        for (int r = 0; r < rows; r++) if (HostKernels.argMax(X, r * cols, cols) == L[r]) correct++;
        return correct;
    }

    /** {@link HostKernels#argMaxRows} on the tensor's own array (no copy): the CPU twin of argmax.cu. */
    @Override public void argMaxRows(Tensor logits, int rows, int cols, int[] predicted) {
        checkArgMaxRows(logits, rows, cols, predicted);
        HostKernels.argMaxRows(f(logits), rows, cols, predicted);
    }

    // ================================================================ convolution and pooling

    @Override public void im2col(Tensor x, long xOffset, ConvGeometry g, Tensor cols, long colsOffset) {
        checkRange("im2col x", x, xOffset, g.imageElements(1));
        checkRange("im2col cols", cols, colsOffset, g.columnElements(1));
        CpuConv.im2col(f(x), (int) xOffset, g, f(cols), (int) colsOffset);
    }

    /**
     * {@link #im2col} with the rows in (ki, kj, c) order, row (ki*kw + kj)*C + c: the input
     * channels of one kernel tap are consecutive rows (sparse inference of a Conv2D pruned 2:4
     * along input channels, see dev.shears.core.sparse.ConvTaps). Not part of {@link dev.shears.core.backend.Backend}.
     */
    public void im2colTapMajor(Tensor x, long xOffset, ConvGeometry g, Tensor cols, long colsOffset) {
        checkRange("im2col x", x, xOffset, g.imageElements(1));
        checkRange("im2col cols", cols, colsOffset, g.columnElements(1));
        CpuConv.im2col(f(x), (int) xOffset, g, f(cols), (int) colsOffset, true);
    }

    @Override public void col2im(Tensor cols, long colsOffset, ConvGeometry g, Tensor dx, long dxOffset) {
        checkRange("col2im cols", cols, colsOffset, g.columnElements(1));
        checkRange("col2im dx", dx, dxOffset, g.imageElements(1));
        CpuConv.col2im(f(cols), (int) colsOffset, g, f(dx), (int) dxOffset);
    }

    /** Images and channels spread over the pool together (the default would unfold one image at a time). */
    @Override public void im2colImages(Tensor x, long xOffset, int images, ConvGeometry g, Tensor cols, long colsOffset) {
        checkImages("im2colImages", images);
        checkRange("im2colImages x", x, xOffset, g.imageElements(images));
        checkRange("im2colImages cols", cols, colsOffset, g.columnElements(images));
        CpuConv.im2colImages(f(x), (int) xOffset, images, g, f(cols), (int) colsOffset);
    }

    /** Images and channels spread over the pool together (the default would fold one image at a time). */
    @Override public void col2imImages(Tensor cols, long colsOffset, int images, ConvGeometry g, Tensor dx, long dxOffset) {
        checkImages("col2imImages", images);
        checkRange("col2imImages cols", cols, colsOffset, g.columnElements(images));
        checkRange("col2imImages dx", dx, dxOffset, g.imageElements(images));
        CpuConv.col2imImages(f(cols), (int) colsOffset, images, g, f(dx), (int) dxOffset);
    }

    /** The specification of shears_im2col_batch (im2col.cu). */
    @Override public void im2colBatch(Tensor x, long xOffset, int images, ConvGeometry g, Tensor cols, long colsOffset) {
        checkImages("im2colBatch", images);
        checkRange("im2colBatch x", x, xOffset, g.imageElements(images));
        checkRange("im2colBatch cols", cols, colsOffset, g.columnElements(images));
        CpuConv.im2colBatch(f(x), (int) xOffset, images, g, f(cols), (int) colsOffset);
    }

    /** The specification of shears_col2im_batch (im2col.cu). */
    @Override public void col2imBatch(Tensor cols, long colsOffset, int images, ConvGeometry g, Tensor dx, long dxOffset) {
        checkImages("col2imBatch", images);
        checkRange("col2imBatch cols", cols, colsOffset, g.columnElements(images));
        checkRange("col2imBatch dx", dx, dxOffset, g.imageElements(images));
        CpuConv.col2imBatch(f(cols), (int) colsOffset, images, g, f(dx), (int) dxOffset);
    }

    /** {@link CpuDepthwise}: direct loops, no im2col, deterministic for any thread count. */
    @Override public boolean directDepthwise() { return true; }

    @Override public void depthwiseConv(Tensor x, Tensor kernel, Tensor y, ConvGeometry g, int n, int multiplier) {
        checkDepthwise(x, kernel, y, g, n, multiplier);
        CpuDepthwise.forward(f(x), f(kernel), f(y), g, n, multiplier);
    }

    @Override public void depthwiseConvBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dW, ConvGeometry g, int n, int multiplier) {
        checkDepthwiseBackward(x, kernel, dy, dx, dW, g, n, multiplier);
        CpuDepthwise.backward(f(x), f(kernel), f(dy), dx == null ? null : f(dx), dW == null ? null : f(dW), g, n, multiplier);
    }

    @Override public void maxPool(Tensor x, Tensor y, Tensor argmax, ConvGeometry g, int n) {
        checkSize("maxPool x", x, g.imageElements(n));
        checkSize("maxPool y", y, g.pooledElements(n));
        if (argmax != null) checkSize("maxPool argmax", argmax, y.size());
        CpuConv.maxPool(f(x), f(y), argmax == null ? null : i(argmax), g, n);
    }

    @Override public void maxPoolBackward(Tensor dy, Tensor argmax, Tensor dx, ConvGeometry g, int n) {
        checkSize("maxPoolBackward dy", dy, g.pooledElements(n));
        checkSize("maxPoolBackward argmax", argmax, dy.size());
        checkSize("maxPoolBackward dx", dx, g.imageElements(n));
        CpuConv.maxPoolBackward(f(dy), i(argmax), f(dx), g, n);
    }

    @Override public void avgPool(Tensor x, Tensor y, ConvGeometry g, int n, boolean countIncludePad) {
        checkSize("avgPool x", x, g.imageElements(n));
        checkSize("avgPool y", y, g.pooledElements(n));
        CpuConv.avgPool(f(x), f(y), g, n, countIncludePad);
    }

    @Override public void avgPoolBackward(Tensor dy, Tensor dx, ConvGeometry g, int n, boolean countIncludePad) {
        checkSize("avgPoolBackward dy", dy, g.pooledElements(n));
        checkSize("avgPoolBackward dx", dx, g.imageElements(n));
        CpuConv.avgPoolBackward(f(dy), f(dx), g, n, countIncludePad);
    }

    // ================================================================ normalisation, dropout

    @Override public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                         float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd,
                                         int outer, int channels, int inner) {
        checkLayout("batchNormTrain x", x, outer, channels, inner);
        checkLayout("batchNormTrain y", y, outer, channels, inner);
        for (Tensor t : new Tensor[]{gamma, beta, runningMean, runningVar, saveMean, saveInvStd})
            checkSize("batchNormTrain per-channel tensor", t, channels);
        CpuNorm.batchNormTrain(f(x), f(gamma), f(beta), f(runningMean), f(runningVar), momentum, eps,
                f(y), f(saveMean), f(saveInvStd), outer, channels, inner);
    }

    @Override public void batchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                             float eps, Tensor y, int outer, int channels, int inner) {
        checkLayout("batchNormInference x", x, outer, channels, inner);
        checkLayout("batchNormInference y", y, outer, channels, inner);
        for (Tensor t : new Tensor[]{gamma, beta, runningMean, runningVar})
            checkSize("batchNormInference per-channel tensor", t, channels);
        CpuNorm.batchNormInference(f(x), f(gamma), f(beta), f(runningMean), f(runningVar), eps, f(y), outer, channels, inner);
    }

    @Override public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                            Tensor dx, Tensor dGamma, Tensor dBeta, int outer, int channels, int inner) {
        checkLayout("batchNormBackward x", x, outer, channels, inner);
        checkLayout("batchNormBackward dy", dy, outer, channels, inner);
        checkLayout("batchNormBackward dx", dx, outer, channels, inner);
        for (Tensor t : new Tensor[]{gamma, saveMean, saveInvStd, dGamma, dBeta})
            checkSize("batchNormBackward per-channel tensor", t, channels);
        CpuNorm.batchNormBackward(f(x), f(dy), f(gamma), f(saveMean), f(saveInvStd), f(dx), f(dGamma), f(dBeta),
                outer, channels, inner);
    }

    @Override public void lrn(Tensor x, Tensor y, int outer, int channels, int inner, int size, float alpha, float beta, float bias) {
        checkLrn(x, y, outer, channels, inner, size);
        HostKernels.lrn(f(x), f(y), outer, channels, inner, size, alpha, beta, bias);
    }

    @Override public void lrnBackward(Tensor x, Tensor dy, Tensor dx, int outer, int channels, int inner,
                                      int size, float alpha, float beta, float bias) {
        checkLrnBackward(x, dy, dx, outer, channels, inner, size);
        HostKernels.lrnBackward(f(x), f(dy), f(dx), outer, channels, inner, size, alpha, beta, bias);
    }

    @Override public void permute(Tensor x, Tensor y, int[] dims, int[] perm) {
        long n = checkPermutation("permute", dims, perm);
        checkSize("permute x", x, n);
        checkSize("permute y", y, n);
        checkNotSame("permute", "y", y, "x", x);
        HostKernels.permute(f(x), 0, f(y), 0, dims, perm);
    }

    @Override public void permute(Tensor x, long xOffset, Tensor y, long yOffset, int[] dims, int[] perm) {
        long n = checkPermutation("permute", dims, perm);
        checkRange("permute x", x, xOffset, n);
        checkRange("permute y", y, yOffset, n);
        checkDisjoint("permute", x, xOffset, y, yOffset, n);
        HostKernels.permute(f(x), (int) xOffset, f(y), (int) yOffset, dims, perm);
    }

    @Override public void dropout(Tensor x, Tensor y, Tensor keepMask, float rate, long seed) {
        float[] X = f(x), Y = f(y);
        byte[] K = b(keepMask);
        int n = sameSize("dropout", x, y);
        checkSize("dropout keepMask", keepMask, n);
        int t = DropoutHash.threshold(rate);
        float scale = DropoutHash.scale(rate);
        for (int j = 0; j < n; j++) {
            boolean keep = DropoutHash.keep(seed, j, t);
            K[j] = (byte) (keep ? 1 : 0);
            Y[j] = keep ? X[j] * scale : 0f;
        }
    }

    @Override public void dropoutBackward(Tensor dy, Tensor keepMask, Tensor dx, float rate) {
        float[] D = f(dy), DX = f(dx);
        byte[] K = b(keepMask);
        int n = sameSize("dropoutBackward", dy, dx);
        checkSize("dropoutBackward keepMask", keepMask, n);
        float scale = DropoutHash.scale(rate);
        for (int j = 0; j < n; j++) DX[j] = K[j] != 0 ? D[j] * scale : 0f;
    }

    // ================================================================ pruning

    @Override public void magnitudeThresholds(List<Tensor> weights, long[] k, boolean global,
                                              float[] thresholds, long[] below, long[] equal) {
        int t = weights.size();
        if (t == 0) throw new IllegalArgumentException("magnitudeThresholds: no tensors given");
        if (thresholds.length < t || below.length < t || equal.length < t)
            throw new IllegalArgumentException("magnitudeThresholds: output arrays shorter than the " + t + " tensors");
        float[][] arrays = new float[t][];
        int[] sizes = new int[t];
        long total = 0;
        for (int j = 0; j < t; j++) {
            arrays[j] = f(weights.get(j));
            sizes[j] = weights.get(j).shape().intSize();
            total += sizes[j];
        }
        if (global) {
            if (k.length < 1 || k[0] < 1 || k[0] > total)
                throw new IllegalArgumentException("magnitudeThresholds (global): k=" + (k.length > 0 ? k[0] : "none") + " outside [1, " + total + "]");
            MagnitudeSelect.select(arrays, sizes, 0, t, k[0], thresholds, below, equal);
        } else {
            if (k.length < t) throw new IllegalArgumentException("magnitudeThresholds (layer): " + k.length + " k values for " + t + " tensors");
            for (int j = 0; j < t; j++) {
                if (k[j] < 1 || k[j] > sizes[j])
                    throw new IllegalArgumentException("magnitudeThresholds (layer): k=" + k[j] + " for tensor " + j + " " + weights.get(j).shape() + " outside [1, " + sizes[j] + "]");
                MagnitudeSelect.select(arrays, sizes, j, j + 1, k[j], thresholds, below, equal);
            }
        }
    }

    @Override public long updateMask(Tensor weights, Tensor mask, float threshold, long tiesToPrune) {
        float[] W = f(weights);
        byte[] M = b(mask);
        int n = sameSize("updateMask", weights, mask);
        int tk = MagnitudeSelect.key(threshold);
        // ties are ordered already-masked first, then by index: count the masked ones first
        long maskedTies = 0;
        for (int j = 0; j < n; j++) if (M[j] == 0 && MagnitudeSelect.key(W[j]) == tk) maskedTies++;
        long left = Math.max(0, tiesToPrune - maskedTies);
        long ones = 0;
        for (int j = 0; j < n; j++) {
            boolean keep = M[j] != 0;
            if (keep) {
                int key = MagnitudeSelect.key(W[j]);
                if (key < tk) keep = false;
                else if (key == tk && left > 0) {
                    keep = false;
                    left--;
                }
            }
            if (keep) {
                ones++;
            } else {
                M[j] = 0;
                W[j] = 0f;
            }
        }
        return ones;
    }

    @Override public long updateMaskNm(Tensor weights, Tensor mask, long outer, long k, long inner, int keep, int m) {
        float[] W = f(weights);
        byte[] M = b(mask);
        int n = sameSize("updateMaskNm", weights, mask);
        Backend.checkNmLayout(n, outer, k, inner, keep, m);
        int o1 = (int) outer, k1 = (int) k, in1 = (int) inner;
        int groups = (k1 + m - 1) / m;
        // rank key per element of the group: 0 for an already-masked one (below every unmasked
        // weight), else 1 + the |w| key, so that a masked zero never outranks an unmasked zero
        long[] rank = new long[m];
        long ones = 0;
        for (int o = 0; o < o1; o++)
            for (int g = 0; g < groups; g++) {
                int k0 = g * m, len = Math.min(m, k1 - k0);
                for (int i = 0; i < in1; i++) {
                    int base = (o * k1 + k0) * in1 + i;
                    for (int j = 0; j < len; j++) {
                        int a = base + j * in1;
                        rank[j] = M[a] == 0 ? 0 : 1L + MagnitudeSelect.key(W[a]);
                    }
                    // decide every element from the old keys first, then write
                    for (int j = 0; j < len; j++) {
                        int a = base + j * in1;
                        boolean kept = false;
                        if (rank[j] != 0) {
                            int above = 0; // elements ranked before j: larger key, or equal key at a lower index
                            for (int l = 0; l < len; l++)
                                if (rank[l] > rank[j] || (rank[l] == rank[j] && l < j)) above++;
                            kept = above < keep;
                        }
                        if (kept) {
                            ones++;
                        } else {
                            M[a] = 0;
                            W[a] = 0f;
                        }
                    }
                }
            }
        return ones;
    }

    @Override public long applyMask(Tensor weights, Tensor mask) {
        float[] W = f(weights);
        byte[] M = b(mask);
        int n = sameSize("applyMask", weights, mask);
        long ones = 0;
        for (int j = 0; j < n; j++) {
            if (M[j] != 0) ones++;
            else W[j] = 0f;
        }
        return ones;
    }

    @Override public void sgdUpdate(Tensor w, Tensor g, Tensor velocity, Tensor mask,
                                    float lr, float momentum, float weightDecay, boolean nesterov) {
        int n = sameSize("sgdUpdate (weights, gradient)", w, g);
        if (velocity != null) sameSize("sgdUpdate (weights, velocity)", w, velocity);
        if (mask != null) sameSize("sgdUpdate (weights, mask)", w, mask);
        CpuUpdates.sgd(f(w), f(g), velocity == null ? null : f(velocity), mask == null ? null : b(mask), n,
                lr, momentum, weightDecay, nesterov);
    }

    @Override public void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, Tensor mask,
                                     float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step) {
        int n = sameSize("adamUpdate (weights, gradient)", w, g);
        sameSize("adamUpdate (weights, m)", w, m);
        sameSize("adamUpdate (weights, v)", w, v);
        if (mask != null) sameSize("adamUpdate (weights, mask)", w, mask);
        if (step < 1) throw new IllegalArgumentException("adamUpdate: step must be 1-based, got " + step);
        float bc1 = (float) (1 - Math.pow(beta1, step));
        float bc2 = (float) (1 - Math.pow(beta2, step));
        CpuUpdates.adam(f(w), f(g), f(m), f(v), mask == null ? null : b(mask), n,
                lr, beta1, beta2, eps, weightDecay, decoupled, bc1, bc2);
    }

    // ================================================================ checks

    /** {@link ArgumentChecks#sameSize} as the int the heap arrays index with. */
    private static int sameSize(String op, Tensor a, Tensor b) {
        return Math.toIntExact(ArgumentChecks.sameSize(op, a, b));
    }
}
