package dev.shears.core.backend;

import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * The whole device contract: memory, a short list of training and pruning ops, synchronisation.
 * {@code CpuBackend} is the reference: every other backend must agree with it to the tolerances
 * its parity tests state. All tensors are dense, contiguous and row-major; offsets and counts are
 * in elements. Ops never allocate their outputs: the caller passes them (so a training step
 * allocates nothing). Unless stated, outputs may not alias inputs.
 */
public interface Backend extends AutoCloseable {

    /** A short name for logs and reports, e.g. {@code "cpu (2 threads, AVX2 256-bit)"}. */
    String name();

    /** {@code "cpu"} or {@code "cuda"}. */
    String kind();

    // ---------------------------------------------------------------- memory

    /** A zero-filled tensor. */
    Tensor allocate(Shape shape, DType dtype);

    default Tensor zeros(int... dims) { return allocate(Shape.of(dims), DType.FLOAT32); }

    /** A new FLOAT32 tensor holding a copy of {@code host[0..shape.size())}. */
    Tensor upload(float[] host, Shape shape);

    /** A new UINT8 tensor holding a copy of {@code host}. */
    Tensor uploadBytes(byte[] host, Shape shape);

    /** A new INT32 tensor holding a copy of {@code host}. */
    Tensor uploadInts(int[] host, Shape shape);

    /** Copies {@code count} elements of a FLOAT32 tensor from {@code srcOffset} into host memory. */
    void download(Tensor src, long srcOffset, float[] dst, int dstOffset, int count);

    default float[] download(Tensor src) {
        float[] out = new float[src.shape().intSize()];
        download(src, 0, out, 0, out.length);
        return out;
    }

    /** Copies a UINT8 tensor into host memory. */
    byte[] downloadBytes(Tensor src);

    /** Copies host data into an existing FLOAT32 tensor at {@code dstOffset}. */
    void write(float[] src, int srcOffset, Tensor dst, long dstOffset, int count);

    /** dst[dstOffset + i] = src[srcOffset + i] for i < count; same dtype. */
    void copy(Tensor src, long srcOffset, Tensor dst, long dstOffset, long count);

    default void copy(Tensor src, Tensor dst) {
        if (src.size() != dst.size()) throw new IllegalArgumentException("copy " + src.shape() + " -> " + dst.shape());
        copy(src, 0, dst, 0, src.size());
    }

    /** Sets every element (FLOAT32: value; UINT8/INT32: (int) value). */
    void fill(Tensor t, float value);

    /** Waits for all queued work (a no-op on the CPU). */
    void synchronize();

    // ---------------------------------------------------------------- dense math

    /**
     * Strided-batched SGEMM, row-major: for each b < batch,
     * {@code C_b = alpha * op(A_b) * op(B_b) + beta * C_b} with op(A_b) m x k, op(B_b) k x n, C_b m x n,
     * A_b at {@code aOffset + b*strideA} (stored m x k, or k x m when transA), likewise B (k x n,
     * or n x k when transB) and C. Leading dimensions are those of the stored matrices (dense).
     * A stride of 0 for A or B reuses one matrix for every b (a convolution's weights against a
     * batch of im2col matrices); the C matrices of a batch must not overlap.
     * When beta == 0, C is not read (NaN in C does not propagate).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              float alpha, Tensor a, long aOffset, long strideA,
              Tensor b, long bOffset, long strideB,
              float beta, Tensor c, long cOffset, long strideC, int batch);

    /** Plain 2-D SGEMM on whole tensors, see the batched form. */
    default void gemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        gemm(transA, transB, m, n, k, alpha, a, 0, 0, b, 0, 0, beta, c, 0, 0, 1);
    }

    /** y = alpha * x + y, element-wise over the whole tensors (same size). */
    void axpy(float alpha, Tensor x, Tensor y);

    /** x = alpha * x. */
    void scale(Tensor x, float alpha);

    /** out = a + b element-wise (out may alias a or b). */
    void add(Tensor a, Tensor b, Tensor out);

    /** out = a * b element-wise (out may alias a or b). */
    void mul(Tensor a, Tensor b, Tensor out);

    /** x[o, c, i] += bias[c] for x viewed as [outer, channels, inner]. */
    void addBias(Tensor x, Tensor bias, int outer, int channels, int inner);

    /** dBias[c] = (accumulate ? dBias[c] : 0) + sum over o, i of dy[o, c, i]. */
    void biasGrad(Tensor dy, Tensor dBias, int outer, int channels, int inner, boolean accumulate);

    /** Sum of all elements of a FLOAT32 tensor, in double. */
    double sum(Tensor x);

    /** Sum of squares of all elements, in double (for gradient norms and checks). */
    double sumSquares(Tensor x);

    // ---------------------------------------------------------------- activations, losses

    /**
     * y = f(x) element-wise; {@code alpha} is the LEAKY_RELU slope, the ELU alpha, the RELU_CAPPED
     * cap or the HARD_SIGMOID slope, {@code beta} the HARD_SIGMOID offset (the other functions
     * ignore it). y may alias x.
     */
    void activation(Activation f, float alpha, float beta, Tensor x, Tensor y);

    /** dx = dy * f'(x) (using y = f(x) where cheaper), the parameters as {@link #activation(Activation, float, float, Tensor, Tensor)}. dx may alias dy. */
    void activationBackward(Activation f, float alpha, float beta, Tensor x, Tensor y, Tensor dy, Tensor dx);

    /** PReLU over [outer, channels, inner]: y = x > 0 ? x : slope[c] * x. */
    void prelu(Tensor x, Tensor slope, Tensor y, int outer, int channels, int inner);

    /** PReLU backward: dx, and dSlope[c] += sum of dy * x where x <= 0. */
    void preluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, Tensor dSlope, int outer, int channels, int inner);

    /** Row-wise softmax of x viewed as [rows, cols]. y may alias x. */
    void softmax(Tensor x, Tensor y, int rows, int cols);

    /** Row-wise log-softmax of x viewed as [rows, cols]. y may alias x. */
    void logSoftmax(Tensor x, Tensor y, int rows, int cols);

    /** Softmax backward for y = softmax(x): dx = y * (dy - sum(dy * y)) per row. */
    void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols);

    /**
     * Fused softmax + cross-entropy over logits [rows, cols] against INT32 class labels [rows]:
     * returns the summed (not averaged) loss; writes dLogits = (softmax - onehot) * gradScale
     * (pass 1/rows for the mean loss). dLogits may be null for evaluation only.
     */
    double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, float gradScale, int rows, int cols);

    /**
     * The soft-target term of knowledge distillation (Hinton, Vinyals and Dean 2015, "Distilling the
     * Knowledge in a Neural Network", arXiv:1503.02531) over student logits s and teacher logits t,
     * both [rows, cols]: returns the summed (not averaged) T^2 * KL(softmax(t/T) || softmax(s/T))
     * over the rows, and ADDS {@code weight * T * (softmax(s/T) - softmax(t/T)) * gradScale} into
     * dLogits, the gradient of {@code weight} times that loss scaled by gradScale. The hard-label
     * part of the distillation loss is {@link #softmaxCrossEntropy} with gradScale * (1 - weight),
     * called first (it overwrites dLogits). dLogits may be null for the loss only.
     *
     * @param temperature T, greater than 0
     */
    double distillation(Tensor studentLogits, Tensor teacherLogits, Tensor dLogits, float weight, float temperature,
                        float gradScale, int rows, int cols);

    /**
     * Number of rows whose arg-max over cols equals the INT32 label. The first maximum wins ties;
     * NaN never wins, and a row of only NaN predicts class 0.
     */
    int countCorrect(Tensor logits, Tensor labels, int rows, int cols);

    /**
     * The predicted class of each of the first {@code rows} rows of logits (at least rows x cols
     * elements, row-major): predicted[r] = the arg-max over the row's cols by {@link #countCorrect}'s
     * rule (the first maximum wins ties; NaN never wins; a row of only NaN predicts class 0). For
     * per-class counts, which need the prediction itself. The default downloads the rows and runs
     * {@code HostKernels.argMaxRows}; a GPU backend overrides it so that only the rows' ints come back.
     */
    default void argMaxRows(Tensor logits, int rows, int cols, int[] predicted) {
        ArgumentChecks.checkArgMaxRows(logits, rows, cols, predicted);
        float[] x = new float[Math.multiplyExact(rows, cols)];
        download(logits, 0, x, 0, x.length);
        dev.shears.core.cpu.HostKernels.argMaxRows(x, rows, cols, predicted);
    }

    // ---------------------------------------------------------------- convolution and pooling

    /**
     * Unfolds one NCHW image at {@code xOffset} into cols [C*kh*kw, outH*outW] at {@code colsOffset}
     * (zero where the window covers padding).
     */
    void im2col(Tensor x, long xOffset, ConvGeometry g, Tensor cols, long colsOffset);

    /** The adjoint of im2col: dx[xOffset..] += fold(cols). */
    void col2im(Tensor cols, long colsOffset, ConvGeometry g, Tensor dx, long dxOffset);

    /**
     * im2col of {@code images} consecutive NCHW images at {@code xOffset}, side by side: cols
     * [C*kh*kw, images*outH*outW] at {@code colsOffset}, where columns
     * [i*outH*outW, (i+1)*outH*outW) hold what {@link #im2col} writes for image i. A convolution
     * multiplies a chunk of images in one GEMM against it, and sums its weight gradient over them
     * in one. The default loops over the images through a scratch buffer it allocates (correct on
     * every backend, slow); CpuBackend and CudaBackend override it.
     */
    default void im2colBatch(Tensor x, long xOffset, int images, ConvGeometry g, Tensor cols, long colsOffset) {
        int rows = g.colRows(), hw = g.colCols();
        long image = g.imageElements(1);
        try (Tensor one = allocate(Shape.of(rows, hw), DType.FLOAT32)) {
            for (int i = 0; i < images; i++) {
                im2col(x, xOffset + i * image, g, one, 0);
                for (int r = 0; r < rows; r++)
                    copy(one, (long) r * hw, cols, colsOffset + ((long) r * images + i) * hw, hw);
            }
        }
    }

    /** The adjoint of {@link #im2colBatch}: dx[xOffset..] (images NCHW images) += fold(cols). Default: per image, as there. */
    default void col2imBatch(Tensor cols, long colsOffset, int images, ConvGeometry g, Tensor dx, long dxOffset) {
        int rows = g.colRows(), hw = g.colCols();
        long image = g.imageElements(1);
        try (Tensor one = allocate(Shape.of(rows, hw), DType.FLOAT32)) {
            for (int i = 0; i < images; i++) {
                for (int r = 0; r < rows; r++)
                    copy(cols, colsOffset + ((long) r * images + i) * hw, one, (long) r * hw, hw);
                col2im(one, 0, g, dx, dxOffset + i * image);
            }
        }
    }

    /**
     * im2col of {@code images} consecutive NCHW images at {@code xOffset}, each into a matrix of
     * its own: cols [images, C*kh*kw, outH*outW] at {@code colsOffset}, matrix i exactly what
     * {@link #im2col} writes for image i (unlike {@link #im2colBatch}, which puts them side by
     * side). What a Conv2D unfolding image by image does per chunk, in one call, so a backend can
     * spread the images over its threads. The default calls {@link #im2col} per image.
     */
    default void im2colImages(Tensor x, long xOffset, int images, ConvGeometry g, Tensor cols, long colsOffset) {
        long image = g.imageElements(1), matrix = g.columnElements(1);
        for (int i = 0; i < images; i++) im2col(x, xOffset + i * image, g, cols, colsOffset + i * matrix);
    }

    /**
     * The adjoint of {@link #im2colImages}: dx[xOffset..] ({@code images} NCHW images) +=
     * fold(cols [images, C*kh*kw, outH*outW]), image i folding matrix i. The default calls
     * {@link #col2im} per image.
     */
    default void col2imImages(Tensor cols, long colsOffset, int images, ConvGeometry g, Tensor dx, long dxOffset) {
        long image = g.imageElements(1), matrix = g.columnElements(1);
        for (int i = 0; i < images; i++) col2im(cols, colsOffset + i * matrix, g, dx, dxOffset + i * image);
    }

    /**
     * How a Conv2D should unfold a batch: true, a chunk of images side by side
     * ({@link #im2colBatch}, one GEMM per chunk and a {@link #permute} of its output: a handful
     * of launches per chunk on a GPU); false, image by image ({@link #im2col}, cheaper on a CPU,
     * where a launch costs nothing). The default is false.
     */
    default boolean convUnfoldsImagesTogether() { return false; }

    /**
     * Most floats of scratch a Conv2D may use per chunk of images; it unfolds a batch in chunks
     * this allows (at least one image). Image by image ({@link #convUnfoldsImagesTogether()}
     * false) it bounds the im2col buffer; images together, everything a chunk borrows from
     * {@link #sharedScratch}: the columns and the GEMM's output. The default, 2^18 (1 MiB), is
     * about a CPU's L2 cache.
     */
    default long convScratchBudgetFloats() { return 1L << 18; }

    /**
     * Whether this backend has a direct depthwise convolution ({@link #depthwiseConv},
     * {@link #depthwiseConvBackward}); a Conv2D with one group per input channel then uses it in
     * place of its grouped GEMMs (each a product with M = multiplier, K = kh*kw: all overhead).
     * The default is false: the grouped GEMM path.
     */
    default boolean directDepthwise() { return false; }

    /**
     * Depthwise convolution: y [n, C*multiplier, outH, outW] from x [n, C, H, W] (C =
     * {@code g.channels()}) and kernel [C*multiplier, 1, kh, kw]; output channel o reads input
     * channel o / multiplier. No bias. Only where {@link #directDepthwise()}.
     */
    default void depthwiseConv(Tensor x, Tensor kernel, Tensor y, ConvGeometry g, int n, int multiplier) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no direct depthwise convolution (directDepthwise() is false)");
    }

    /**
     * The gradients of {@link #depthwiseConv} from dy [n, C*multiplier, outH, outW]: dx [n, C, H, W]
     * written where non-null; the kernel's gradient dW [C*multiplier, 1, kh, kw] added to
     * (accumulated) where non-null. Only where {@link #directDepthwise()}.
     */
    default void depthwiseConvBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dW, ConvGeometry g, int n, int multiplier) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no direct depthwise convolution (directDepthwise() is false)");
    }

    /**
     * Scratch memory shared by the layers run on this backend (they run one at a time, in one
     * thread, on one stream): a flat FLOAT32 tensor of at least {@code floats} elements, grown to
     * the largest request so far and kept, or null where the backend keeps none (the caller then
     * holds a buffer of its own). Its contents are undefined at every call, as another layer may
     * have written it since: a caller uses it within one forward or one backward call and keeps
     * nothing in it from one call to the next. The backend owns it: do not close it; a later,
     * larger request may replace it. The default keeps none.
     */
    default Tensor sharedScratch(long floats) { return null; }

    /**
     * Max pooling over x [n, C, H, W] -> y [n, C, outH, outW]; writes the arg-max flat index
     * within each input plane to INT32 {@code argmax} (same shape as y) when argmax is non-null.
     * Padding never wins.
     */
    void maxPool(Tensor x, Tensor y, Tensor argmax, ConvGeometry g, int n);

    /** dx = 0, then dx[argmax] += dy per plane. */
    void maxPoolBackward(Tensor dy, Tensor argmax, Tensor dx, ConvGeometry g, int n);

    /**
     * Average pooling; {@code countIncludePad}: divide by the number of window taps inside the
     * padded input (kh*kw except where a ceil-mode window hangs past the padding, as ONNX Runtime
     * and PyTorch count), else by the number of taps inside the input itself.
     */
    void avgPool(Tensor x, Tensor y, ConvGeometry g, int n, boolean countIncludePad);

    /** dx = scatter of dy / count (dx overwritten). */
    void avgPoolBackward(Tensor dy, Tensor dx, ConvGeometry g, int n, boolean countIncludePad);

    // ---------------------------------------------------------------- normalisation, dropout

    /**
     * Batch norm in training mode over x [outer, channels, inner] (statistics per channel over
     * outer and inner): y = gamma * (x - mean) * invStd + beta, invStd = 1/sqrt(var + eps) with the
     * biased variance; saves mean and invStd [channels] for backward; updates running statistics
     * as {@code running = momentum * running + (1 - momentum) * batch} (Keras convention; the
     * running variance uses the unbiased batch variance).
     */
    void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                        float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd,
                        int outer, int channels, int inner);

    /** Batch norm with the running statistics: y = gamma * (x - mean) / sqrt(var + eps) + beta. */
    void batchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                            float eps, Tensor y, int outer, int channels, int inner);

    /** Batch norm backward (training mode): dx, and dGamma, dBeta accumulated (+=). */
    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                           Tensor dx, Tensor dGamma, Tensor dBeta, int outer, int channels, int inner);

    /**
     * Inverted dropout: keep[i] = 1 with probability 1 - rate from a counter-based generator
     * seeded by (seed, i) so every backend draws the same mask; y = x * keep / (1 - rate).
     */
    void dropout(Tensor x, Tensor y, Tensor keepMask, float rate, long seed);

    /**
     * {@link #dropout} with the seed {@code DropoutHash.mix(stepSeed, salt)}: a layer passes the
     * step's seed and its own salt, so a backend that replays a captured step (CUDA graphs) can
     * read the step seed from device memory and derive the same layer seed there.
     */
    default void dropout(Tensor x, Tensor y, Tensor keepMask, float rate, long stepSeed, long salt) {
        dropout(x, y, keepMask, rate, dev.shears.core.cpu.DropoutHash.mix(stepSeed, salt));
    }

    /** dx = dy * keep / (1 - rate). */
    void dropoutBackward(Tensor dy, Tensor keepMask, Tensor dx, float rate);

    // ---------------------------------------------------------------- pruning

    /**
     * Magnitude thresholds for many tensors in one pass sequence, without sorting or
     * concatenating them. Layer scope ({@code global == false}): for each tensor i, the k[i]-th
     * smallest |w| (1-based, k[i] in [1, size]) over all elements of tensor i (already-pruned
     * weights are zero, so they count among the smallest). Global scope: one value, the k[0]-th
     * smallest |w| over all tensors together, written to every thresholds[i]. For each tensor,
     * {@code below[i]} receives the number of its elements with |w| strictly less than its
     * threshold, and {@code equal[i]} the number with |w| == threshold, so the caller knows how
     * many ties at the threshold to prune (for global scope, spread over the tensors in order).
     * The result is exact: the value a full sort would give, ties included.
     */
    void magnitudeThresholds(List<Tensor> weights, long[] k, boolean global,
                             float[] thresholds, long[] below, long[] equal);

    /**
     * Writes the mask for a threshold: mask[i] = 0 where the old mask is 0, or |w[i]| < threshold,
     * or |w[i]| == threshold and i is among the first {@code tiesToPrune} ties, where ties are
     * ordered already-masked first, then by index (so exactly below + tiesToPrune elements end up
     * masked when no more than that were masked before); else 1. Masks only gain zeros. Then
     * zeroes the masked weights. Returns the number of ones in the new mask.
     */
    long updateMask(Tensor weights, Tensor mask, float threshold, long tiesToPrune);

    /** w *= mask (UINT8), returning the count of ones in the mask. */
    long applyMask(Tensor weights, Tensor mask);

    /**
     * N:M mask update, per group in one pass. The weights are viewed as [outer, k, inner]
     * (row-major, {@code outer * k * inner} = size) and cut along the k axis into groups of
     * {@code m} consecutive indices, one run of groups per (outer, inner) pair; when m does not
     * divide k the last group of each run is shorter (k mod m elements). In each group, of the
     * elements whose old mask is 1, the {@code keep} with the largest |w| stay 1 and the others
     * become 0; equal |w| go to the lower k index (the earlier element is kept). Elements already
     * masked stay 0 whatever their value (masks only gain zeros), so a group ends with
     * min(keep, its unmasked count) ones, and a short group with at most keep. |w| compares as in
     * {@link #updateMask} (-0 equals +0, NaN is the largest). Masked weights are then zeroed.
     * Returns the number of ones in the new mask.
     *
     * <p>The layout is general; the pruner passes a Dense kernel [in, out] as (1, in, out) and a
     * Conv2D kernel [out, in, kh, kw] as (out, in, kh*kw): groups of input channels at each
     * output and kernel position, NVIDIA's grouping (see the pruning module's NmLayout). For a
     * Dense kernel (and a 1x1 Conv2D) the groups are consecutive along the rows of A in
     * {@link dev.shears.core.sparse.SparseMatrix}, so keep = N gives the pattern
     * {@link dev.shears.core.sparse.NmMatrix} stores.
     *
     * @param keep weights kept per group, in [0, m]
     * @param m    group length, in [1, {@link #NM_MAX_GROUP}]
     */
    long updateMaskNm(Tensor weights, Tensor mask, long outer, long k, long inner, int keep, int m);

    /** The longest group {@link #updateMaskNm} takes (the CUDA kernel ranks a group in registers). */
    int NM_MAX_GROUP = 32;

    /**
     * Checks {@link #updateMaskNm}'s arguments for a tensor of {@code size} elements; every backend
     * calls it so that all reject the same inputs with the same message.
     */
    static void checkNmLayout(long size, long outer, long k, long inner, int keep, int m) {
        if (m < 1 || m > NM_MAX_GROUP)
            throw new IllegalArgumentException("updateMaskNm: group length m = " + m + " outside [1, " + NM_MAX_GROUP + "]");
        if (keep < 0 || keep > m)
            throw new IllegalArgumentException("updateMaskNm: keep = " + keep + " outside [0, m = " + m + "]");
        long covered = -1;
        if (outer >= 1 && k >= 1 && inner >= 1) {
            try {
                covered = Math.multiplyExact(Math.multiplyExact(outer, k), inner);
            } catch (ArithmeticException overflow) {
                covered = -1;
            }
        }
        if (covered != size)
            throw new IllegalArgumentException("updateMaskNm: layout [outer " + outer + ", k " + k + ", inner " + inner
                    + "] does not cover the tensor's " + size + " elements");
    }

    /**
     * Fused masked SGD step, one pass over every array (mask may be null: nothing masked):
     * g' = (g + weightDecay*w) * mask; v = momentum*v + g'; step = nesterov ? g' + momentum*v : v;
     * w = (w - lr*step) * mask; v is zeroed where mask is 0. {@code velocity} may be null: plain
     * SGD, step = g' (what momentum 0 computes from a zero velocity, without keeping one; the
     * optimizer passes null when momentum is 0).
     */
    void sgdUpdate(Tensor w, Tensor g, Tensor velocity, Tensor mask,
                   float lr, float momentum, float weightDecay, boolean nesterov);

    /**
     * Fused masked Adam / AdamW step ({@code step} is 1-based, for bias correction):
     * g' = (g + (decoupled ? 0 : weightDecay*w)) * mask; m = b1*m + (1-b1)*g';
     * v = b2*v + (1-b2)*g'^2; w -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)
     *       + (decoupled ? lr*weightDecay*w : 0); w, m, v zeroed where mask is 0.
     */
    void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, Tensor mask,
                    float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step);

    // ---------------------------------------------------------------- rarer ops (host fallbacks)
    // Added for the Permute, LRN and LogSoftmax layers. The defaults round-trip through host
    // memory (correct on every backend, slow on a GPU); a backend overrides them with kernels.

    /**
     * Permutes the axes of x into y: y's axis i is x's axis perm[i]; {@code dims} are x's
     * dimensions (batch axis included), perm a permutation of 0..dims.length-1.
     */
    default void permute(Tensor x, Tensor y, int[] dims, int[] perm) {
        float[] in = download(x);
        float[] out = new float[in.length];
        dev.shears.core.cpu.HostKernels.permute(in, 0, out, 0, dims, perm);
        write(out, 0, y, 0, out.length);
    }

    /**
     * {@link #permute} of the {@code product(dims)} elements of x at {@code xOffset} into y at
     * {@code yOffset} (the ranges may not overlap when they are in the same tensor). The default
     * round-trips through host memory.
     */
    default void permute(Tensor x, long xOffset, Tensor y, long yOffset, int[] dims, int[] perm) {
        long n = 1;
        for (int d : dims) n *= d;
        float[] in = new float[Math.toIntExact(n)];
        download(x, xOffset, in, 0, in.length);
        float[] out = new float[in.length];
        dev.shears.core.cpu.HostKernels.permute(in, 0, out, 0, dims, perm);
        write(out, 0, y, yOffset, out.length);
    }

    /**
     * Local response normalisation across channels of x viewed as [outer, channels, inner] (ONNX
     * LRN): y = x / (bias + alpha/size * sum of x^2 over the channels c - floor((size-1)/2) ..
     * c + ceil((size-1)/2) that exist)^beta.
     */
    default void lrn(Tensor x, Tensor y, int outer, int channels, int inner, int size, float alpha, float beta, float bias) {
        float[] in = download(x);
        float[] out = new float[in.length];
        dev.shears.core.cpu.HostKernels.lrn(in, out, outer, channels, inner, size, alpha, beta, bias);
        write(out, 0, y, 0, out.length);
    }

    /** Backward of {@link #lrn}: dx from the forward input x and dy (same layout); dx may not alias x or dy. */
    default void lrnBackward(Tensor x, Tensor dy, Tensor dx, int outer, int channels, int inner, int size, float alpha, float beta, float bias) {
        float[] in = download(x), g = download(dy);
        float[] out = new float[in.length];
        dev.shears.core.cpu.HostKernels.lrnBackward(in, g, out, outer, channels, inner, size, alpha, beta, bias);
        write(out, 0, dx, 0, out.length);
    }

    /** Log-softmax backward for y = logSoftmax(x): dx = dy - exp(y) * sum(dy) per row. dx may alias dy. */
    default void logSoftmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        float[] yh = download(y), g = download(dy);
        dev.shears.core.cpu.HostKernels.logSoftmaxBackward(yh, g, g, rows, cols);
        write(g, 0, dx, 0, g.length);
    }

    @Override void close();
}
