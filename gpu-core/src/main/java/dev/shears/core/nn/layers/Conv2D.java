package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.backend.ConvGeometry;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.List;

/**
 * 2-D convolution over NCHW images; kernel stored [out, in/groups, kh, kw] (the ONNX layout),
 * bias [out]. Padding is explicit (importers resolve 'same'/auto_pad from the input size).
 * A depthwise convolution (one group per input channel) runs the backend's direct kernel where it
 * has one ({@link Backend#directDepthwise()}: the CPU and CUDA backends), else one GEMM per group like any grouped one.
 */
public final class Conv2D extends Layer {
    private final int inChannels, outChannels, kernelH, kernelW, strideH, strideW;
    private final int padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups;
    private final Parameter kernel;
    private final Parameter bias;

    public Conv2D(String name, int inChannels, int outChannels, int kernelH, int kernelW,
                  int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight,
                  int dilationH, int dilationW, int groups, boolean useBias) {
        super(name);
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new IllegalArgumentException(name + ": channels " + inChannels + " -> " + outChannels + " not divisible by groups " + groups);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.strideH = strideH;
        this.strideW = strideW;
        this.padTop = padTop;
        this.padLeft = padLeft;
        this.padBottom = padBottom;
        this.padRight = padRight;
        this.dilationH = dilationH;
        this.dilationW = dilationW;
        this.groups = groups;
        this.kernel = addParameter("kernel", Parameter.Role.KERNEL, Shape.of(outChannels, inChannels / groups, kernelH, kernelW), true);
        this.bias = useBias ? addParameter("bias", Parameter.Role.BIAS, Shape.of(outChannels), true) : null;
    }

    /** Square kernel, equal padding on every side, no dilation, one group. */
    public static Conv2D of(String name, int in, int out, int k, int stride, int pad, boolean useBias) {
        return new Conv2D(name, in, out, k, k, stride, stride, pad, pad, pad, pad, 1, 1, 1, useBias);
    }

    public int inChannels() { return inChannels; }
    public int outChannels() { return outChannels; }
    public int kernelH() { return kernelH; }
    public int kernelW() { return kernelW; }
    public int strideH() { return strideH; }
    public int strideW() { return strideW; }
    public int padTop() { return padTop; }
    public int padLeft() { return padLeft; }
    public int padBottom() { return padBottom; }
    public int padRight() { return padRight; }
    public int dilationH() { return dilationH; }
    public int dilationW() { return dilationW; }
    public int groups() { return groups; }
    public Parameter kernel() { return kernel; }
    public Parameter bias() { return bias; }

    /** The geometry of one group's sweep over an input of this spatial size. */
    public dev.shears.core.backend.ConvGeometry geometry(int height, int width) {
        return new dev.shears.core.backend.ConvGeometry(inChannels / groups, height, width, kernelH, kernelW, strideH, strideW,
                padTop, padLeft, padBottom, padRight, dilationH, dilationW, false);
    }

    @Override public String type() { return "Conv2D"; }

    @Override public Shape outputShape(List<Shape> in) {
        Shape s = Layers.image(in);
        if (s.dim(0) != inChannels) throw new IllegalArgumentException("expects " + inChannels + " input channels, got " + s);
        var g = geometry(s.dim(1), s.dim(2));
        return Shape.of(outChannels, g.outH(), g.outW());
    }

    /**
     * Overrides {@link Backend#convScratchBudgetFloats()} when positive (0: the backend's): most
     * floats of the im2col buffer image by image, of the whole per-chunk scratch (columns plus
     * GEMM output) with images together. Images are unfolded in chunks this allows.
     * Package-private and mutable so tests can force chunking.
     */
    static int colsBudgetFloats = 0;

    /**
     * Overrides {@link Backend#convUnfoldsImagesTogether()} when non-null, so tests can run either
     * layout on the CPU specification. Package-private and mutable for tests only.
     */
    static Boolean unfoldImagesTogether = null;

    /**
     * False: each layer keeps scratch of its own even where the backend shares one (the layout
     * before {@link Backend#sharedScratch}), so tests can compare the two. Package-private and
     * mutable for tests only.
     */
    static boolean shareScratch = true;

    /**
     * False: a depthwise convolution takes the grouped GEMM path even on a backend with
     * {@link Backend#directDepthwise()} (the reference the direct path is tested against).
     * Package-private and mutable for tests only.
     */
    static boolean useDirectDepthwise = true;

    /** the last input, [N, C, H, W] */
    private Tensor x;
    /** one group's geometry (channels C/groups) */
    private ConvGeometry geometry;
    /** output buffer, [N, outChannels, outH, outW] */
    private Tensor y;
    /** image by image: im2col of a chunk of images, [chunk, groups, C/groups*kh*kw, outH*outW] */
    private Tensor cols;
    /** gradient of cols, same shape (image by image only) */
    private Tensor dCols;
    /**
     * Images together, where the backend has no {@link Backend#sharedScratch}: this layer's own
     * scratch, laid out as the shared one (see {@link #scratch}), [C*kh*kw*chunk*outH*outW +
     * outChannels*chunk*outH*outW]. Null on a backend that shares its scratch.
     */
    private Tensor ownScratch;
    /** input-gradient buffer, [N, C, H, W] */
    private Tensor dx;
    /**
     * Image by image: each image's own weight-gradient product for a run of a chunk's images,
     * [run, outChannels, C/groups*kh*kw], run at most the scratch budget over the kernel's size
     * (summed into the kernel's gradient; see backward)
     */
    private Tensor dWParts;
    /** the same for a shorter last run, [fewer, outChannels, C/groups*kh*kw] */
    private Tensor dWPartsTail;
    /** images per chunk in the last forward */
    private int chunk;
    /** image by image: whether cols still holds the whole last batch (one chunk), so backward need not unfold again */
    private boolean colsHoldBatch;
    /** whether the last forward unfolded images together (see {@link Backend#convUnfoldsImagesTogether()}) */
    private boolean together;
    /** whether the last forward ran the backend's direct depthwise convolution (see {@link #depthwise}) */
    private boolean direct;

    /** One group per input channel (channel multiplier outChannels / inChannels): a depthwise convolution. */
    public boolean depthwise() {
        return groups == inChannels && groups > 1;
    }

    private static boolean together(Backend b) {
        return unfoldImagesTogether != null ? unfoldImagesTogether : b.convUnfoldsImagesTogether();
    }

    private static long budget(Backend b) {
        return colsBudgetFloats > 0 ? colsBudgetFloats : b.convScratchBudgetFloats();
    }

    /** The geometry of all groups at once (channels C): its im2col rows are every group's rows, group after group. */
    private ConvGeometry allGroups(int height, int width) {
        return new ConvGeometry(inChannels, height, width, kernelH, kernelW, strideH, strideW,
                padTop, padLeft, padBottom, padRight, dilationH, dilationW, false);
    }

    /** A 1x1, stride-1, unpadded kernel: the image itself is its im2col matrix. */
    private boolean pointwise() {
        return kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && dilationH == 1 && dilationW == 1
                && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0;
    }

    /**
     * Unfolds images [i0, i0 + count) into cols: image i, group g at ((i - i0) * groups + g) * rows * hw.
     * Group g of image i is the (i * groups + g)-th run of C/groups channels of x, so the
     * (image, group) pairs are consecutive images of one group's geometry: one call unfolds them all.
     */
    private void unfold(Backend b, int i0, int count, long imageSize) {
        b.im2colImages(x, i0 * imageSize, count * groups, geometry, cols, 0);
    }

    /**
     * Images per batched weight-gradient product in a chunk of {@code count}: as many as keep
     * their parts ({@code kernelSize} floats each) within the backend's scratch budget, at least one.
     */
    private static int partsRun(Backend b, int count, long kernelSize) {
        return (int) Math.max(1, Math.min(count, budget(b) / Math.max(1, kernelSize)));
    }

    /** The per-image weight-gradient buffer for a run of {@code count} images (see {@link #dWParts}); {@code run} is the full run's length. */
    private Tensor dWParts(Backend b, int count, int run) {
        Shape shape = Shape.of(count, outChannels, kernel.value().size() / outChannels);
        if (count == run) return dWParts = Layers.ensure(b, dWParts, shape);
        return dWPartsTail = Layers.ensure(b, dWPartsTail, shape);
    }

    /**
     * The geometry of this convolution over {@code x}, refusing an input that is not
     * [N, inChannels, H, W] (what this layer's forward and the sparse models' convolutions check).
     */
    public ConvGeometry geometryOf(Tensor x) {
        Shape s = x.shape();
        if (s.rank() != 4 || s.dim(1) != inChannels)
            throw new IllegalArgumentException(this + ": expects an [N, " + inChannels + ", H, W] input, got " + x);
        return geometry(s.dim(2), s.dim(3));
    }

    @Override public Tensor forward(ExecContext ctx, List<Tensor> inputs) {
        Backend b = ctx.backend();
        x = Layers.input(this, inputs);
        Shape s = x.shape();
        geometry = geometryOf(x);
        int n = s.dim(0), h = s.dim(2), w = s.dim(3);
        int cg = inChannels / groups, ocg = outChannels / groups;
        int rows = geometry.colRows(), hw = geometry.colCols();
        long imageSize = (long) inChannels * h * w, groupSize = (long) cg * h * w, outImage = (long) outChannels * hw;
        long colsPerGroup = (long) rows * hw;
        y = Layers.ensure(b, y, Shape.of(n, outChannels, geometry.outH(), geometry.outW()));
        together = together(b);
        direct = useDirectDepthwise && depthwise() && b.directDepthwise();
        if (direct) {
            b.depthwiseConv(x, kernel.value(), y, allGroups(h, w), n, outChannels / inChannels);
        } else if (together) {
            forwardTogether(b, n, h, w);
        } else if (pointwise()) {
            // y_i,g [ocg, hw] = W_g [ocg, cg] * x_i,g [cg, hw], all images in one batched call per group
            for (int g = 0; g < groups; g++)
                b.gemm(false, false, ocg, hw, rows, 1f, kernel.value(), (long) g * ocg * rows, 0,
                        x, g * groupSize, imageSize, 0f, y, (long) g * ocg * hw, outImage, n);
        } else {
            chunk = (int) Math.max(1, Math.min(n, budget(b) / Math.max(1, groups * colsPerGroup)));
            cols = Layers.ensure(b, cols, Shape.of(chunk, groups, rows, hw));
            for (int i0 = 0; i0 < n; i0 += chunk) {
                int count = Math.min(chunk, n - i0);
                unfold(b, i0, count, imageSize);
                // per group, over the chunk's images: y_i,g [ocg, hw] = W_g [ocg, rows] * cols_i,g [rows, hw]
                for (int g = 0; g < groups; g++)
                    b.gemm(false, false, ocg, hw, rows, 1f, kernel.value(), (long) g * ocg * rows, 0,
                            cols, g * colsPerGroup, groups * colsPerGroup, 0f, y, i0 * outImage + (long) g * ocg * hw, outImage, count);
            }
            colsHoldBatch = chunk >= n;
        }
        if (bias != null) b.addBias(y, bias.value(), n, outChannels, hw);
        return y;
    }

    @Override public List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad) {
        Layers.requireForward(this, x);
        Backend b = ctx.backend();
        Shape s = x.shape();
        int n = s.dim(0), h = s.dim(2), w = s.dim(3);
        int cg = inChannels / groups, ocg = outChannels / groups;
        int rows = geometry.colRows(), hw = geometry.colCols();
        long imageSize = (long) inChannels * h * w, groupSize = (long) cg * h * w, outImage = (long) outChannels * hw;
        long colsPerGroup = (long) rows * hw;
        Tensor dW = kernel.grad();
        if (bias != null && bias.grad() != null) b.biasGrad(gradOutput, bias.grad(), n, outChannels, hw, true);
        if (needInputGrad) dx = Layers.ensure(b, dx, s);

        if (direct) {
            b.depthwiseConvBackward(x, kernel.value(), gradOutput, needInputGrad ? dx : null, dW, allGroups(h, w), n, outChannels / inChannels);
            return Layers.grads(needInputGrad ? dx : null);
        }
        if (together) {
            backwardTogether(b, gradOutput, dW, needInputGrad, n, h, w);
            return Layers.grads(needInputGrad ? dx : null);
        }
        if (pointwise()) {
            for (int i = 0; i < n; i++)
                if (dW != null) // dW_g [ocg, cg] += dy_i,g [ocg, hw] * x_i,g^T
                    b.gemm(false, true, ocg, rows, hw, 1f, gradOutput, i * outImage, (long) ocg * hw,
                            x, i * imageSize, groupSize, 1f, dW, 0, (long) ocg * rows, groups);
            if (needInputGrad) // dx_i,g [cg, hw] = W_g^T * dy_i,g, straight into dx
                for (int g = 0; g < groups; g++)
                    b.gemm(true, false, rows, hw, ocg, 1f, kernel.value(), (long) g * ocg * rows, 0,
                            gradOutput, (long) g * ocg * hw, outImage, 0f, dx, g * groupSize, imageSize, n);
            return Layers.grads(needInputGrad ? dx : null);
        }

        if (needInputGrad) {
            b.fill(dx, 0f);
            dCols = Layers.ensure(b, dCols, cols.shape());
        }
        for (int i0 = 0; i0 < n; i0 += chunk) {
            int count = Math.min(chunk, n - i0);
            if (dW != null) {
                if (!colsHoldBatch) unfold(b, i0, count, imageSize);
                // The images all add into dW, so one GEMM per image after another would run in
                // sequence. Instead P_i,g [ocg, rows] = dy_i,g * cols_i,g^T for every (image,
                // group) pair of a run of images as one batched GEMM of disjoint products (a
                // backend runs them in parallel), then dW += P_0, += P_1, ... in image order. The
                // parts hold a whole kernel per image, which the chunk (sized for the columns) does
                // not bound: a layer with few output positions and many weights (a 7x7 kernel over
                // a 7x7 image) would need chunk kernels; runs of at most partsRun images keep them
                // within the scratch budget. The sum is the same in any runs: image order.
                long kernelSize = kernel.value().size();
                int run = partsRun(b, count, kernelSize);
                for (int j0 = 0; j0 < count; j0 += run) {
                    int c = Math.min(run, count - j0);
                    long dyAt = (i0 + j0) * outImage, colsAt = j0 * groups * colsPerGroup;
                    if (c == 1) { // dW_g [ocg, rows] += dy_i,g [ocg, hw] * cols_i,g^T
                        b.gemm(false, true, ocg, rows, hw, 1f, gradOutput, dyAt, (long) ocg * hw,
                                cols, colsAt, colsPerGroup, 1f, dW, 0, (long) ocg * rows, groups);
                    } else {
                        Tensor parts = dWParts(b, c, run);
                        b.gemm(false, true, ocg, rows, hw, 1f, gradOutput, dyAt, (long) ocg * hw,
                                cols, colsAt, colsPerGroup, 0f, parts, 0, (long) ocg * rows, c * groups);
                        // biasGrad with inner 1 is exactly that sum over the rows of parts [c, kernel size]
                        b.biasGrad(parts, dW, c, Math.toIntExact(kernelSize), 1, true);
                    }
                }
            }
            if (needInputGrad) {
                // dcols_i,g [rows, hw] = W_g^T * dy_i,g over the chunk, then fold back into dx
                for (int g = 0; g < groups; g++)
                    b.gemm(true, false, rows, hw, ocg, 1f, kernel.value(), (long) g * ocg * rows, 0,
                            gradOutput, i0 * outImage + (long) g * ocg * hw, outImage, 0f,
                            dCols, g * colsPerGroup, groups * colsPerGroup, count);
                // every (image, group) pair of the chunk at once (laid out as in unfold)
                b.col2imImages(dCols, 0, count * groups, geometry, dx, i0 * imageSize);
            }
        }
        return Layers.grads(needInputGrad ? dx : null);
    }

    // ------------------------------------------------------------ images together (a GPU's layout)
    // Per chunk of images: one im2colBatch, one GEMM (batched over the groups) and one permute
    // forward; one permute, one im2colBatch and one GEMM for dW, one GEMM for the columns'
    // gradient and one col2imBatch backward, whatever the chunk's size, so a step's launches do
    // not grow with the batch.
    //
    // The columns and the GEMM's output live in scratch shared by every layer of the backend
    // (Backend#sharedScratch), not in buffers of this layer's own: the layers run one at a time,
    // so one buffer sized for the largest of them serves all, where one per layer held up to
    // 128 MiB per Conv2D on CUDA (several GB for a ResNet-50) for the model's life. The price:
    // between this layer's forward and its backward other layers overwrite the scratch, so
    // backward unfolds its chunk again for dW (one im2colBatch launch per chunk, reading x, which
    // is kh*kw/stride^2 times smaller than the columns it writes) instead of keeping the forward's
    // columns. A batch of more than one chunk unfolded again anyway, as one buffer held one chunk.
    //
    // The chunk is sized so that columns and GEMM output together fit the backend's budget
    // (Backend#convScratchBudgetFloats), so the scratch is bounded by it whatever the batch. The
    // price of a smaller chunk: more launches (a handful per chunk), and dW summed in more, shorter
    // GEMMs (a different rounding than one long one; outputs and dx are per-column and do not
    // depend on the chunk). A batch that fits in one chunk is unaffected.

    /**
     * The scratch for a chunk of {@code chunk} images: floats [0, colsFloats) hold the columns
     * [C*kh*kw, chunk*outH*outW] (group g's rows C/groups*kh*kw at g*that, images side by side
     * along the columns; backward overwrites them with the columns' gradient), the next
     * outChannels*chunk*outH*outW the GEMM's output [outChannels, chunk*outH*outW] (backward: the
     * permuted output gradient). The backend's shared scratch, else this layer's own.
     */
    private Tensor scratch(Backend b, long colsFloats, long outFloats) {
        long floats = colsFloats + outFloats;
        Tensor shared = shareScratch ? b.sharedScratch(floats) : null;
        if (shared != null) {
            // a buffer of its own left from a backend without shared scratch (the model was bound there before)
            if (ownScratch != null) {
                ownScratch.close();
                ownScratch = null;
            }
            return shared;
        }
        // a buffer of exactly this size, as before; kept while the layout's size stays the same
        ownScratch = Layers.ensure(b, ownScratch, Shape.of(floats));
        return ownScratch;
    }

    /** Floats of the scratch {@link #scratch} serves a forward or backward over {@code chunk} images of this size. */
    private long[] scratchFloats(int chunk, int h, int w) {
        ConvGeometry all = allGroups(h, w);
        long span = (long) chunk * all.colCols();
        return new long[] {(long) all.colRows() * span, (long) outChannels * span};
    }

    /**
     * Floats of scratch this layer borrows for a forward or backward over an input of {@code n}
     * images of {@code height x width} in the images-together layout, under a scratch budget of
     * {@code budgetFloats}: columns plus GEMM output for one chunk, at most the budget unless one
     * image alone needs more. A backend's shared scratch grows to the largest of its layers'
     * (ConvScratchIT checks the accounting against it).
     */
    public long scratchFloats(int n, int height, int width, long budgetFloats) {
        int c = chunkOf(n, height, width, budgetFloats);
        long[] f = scratchFloats(c, height, width);
        return f[0] + f[1];
    }

    /**
     * Images per chunk: as many as the budget allows for everything a chunk borrows (its columns
     * [C*kh*kw, chunk*outH*outW] and the GEMM's output [outChannels, chunk*outH*outW]; backward
     * reuses the same two regions), at least one, at most the batch. Counting the columns alone
     * let the output part grow past the budget: up to 4x it for ResNet-50's 64 -> 256 1x1 convs.
     */
    private int chunkOf(int n, int height, int width, long budgetFloats) {
        long[] one = scratchFloats(1, height, width);
        long perImage = one[0] + one[1];
        return (int) Math.max(1, Math.min(n, budgetFloats / Math.max(1, perImage)));
    }

    private void forwardTogether(Backend b, int n, int h, int w) {
        ConvGeometry all = allGroups(h, w);
        int k = geometry.colRows(), hw = geometry.colCols(), ocg = outChannels / groups;
        long imageSize = (long) inChannels * h * w, outImage = (long) outChannels * hw;
        chunk = chunkOf(n, h, w, budget(b));
        long[] f = scratchFloats(chunk, h, w);
        Tensor work = scratch(b, f[0], f[1]);
        long outAt = f[0]; // where the GEMM's output starts in work
        for (int i0 = 0; i0 < n; i0 += chunk) {
            int count = Math.min(chunk, n - i0);
            long span = (long) count * hw; // columns of this chunk
            // images [i0, i0 + count) of x into the columns [C*kh*kw, count*hw] at work[0]
            b.im2colBatch(x, i0 * imageSize, count, all, work, 0);
            // per group: Y'_g [ocg, count*hw] = W_g [ocg, k] * cols_g [k, count*hw], the groups as one batched call
            b.gemm(false, false, ocg, Math.toIntExact(span), k, 1f, kernel.value(), 0, (long) ocg * k,
                    work, 0, k * span, 0f, work, outAt, ocg * span, groups);
            // Y' [out, count, hw] -> y [count, out, hw]
            b.permute(work, outAt, y, i0 * outImage, new int[] {outChannels, count, hw}, new int[] {1, 0, 2});
        }
    }

    private void backwardTogether(Backend b, Tensor gradOutput, Tensor dW, boolean needInputGrad, int n, int h, int w) {
        ConvGeometry all = allGroups(h, w);
        int k = geometry.colRows(), hw = geometry.colCols(), ocg = outChannels / groups;
        long imageSize = (long) inChannels * h * w, outImage = (long) outChannels * hw;
        if (needInputGrad) b.fill(dx, 0f);
        if (dW == null && !needInputGrad) return;
        long[] f = scratchFloats(chunk, h, w);
        // the same request as forward's: other layers may have written it since, so nothing of forward's is in it
        Tensor cols = scratch(b, f[0], f[1]), outCols = cols;
        long outAt = f[0];
        for (int i0 = 0; i0 < n; i0 += chunk) {
            int count = Math.min(chunk, n - i0);
            long span = (long) count * hw;
            int cols32 = Math.toIntExact(span);
            // dY [count, out, hw] -> dY' [out, count*hw]
            b.permute(gradOutput, i0 * outImage, outCols, outAt, new int[] {count, outChannels, hw}, new int[] {1, 0, 2});
            if (dW != null) {
                b.im2colBatch(x, i0 * imageSize, count, all, cols, 0);
                // dW_g [ocg, k] += dY'_g [ocg, count*hw] * cols_g^T: the sum over the chunk's images is the GEMM's inner dimension
                b.gemm(false, true, ocg, k, cols32, 1f, outCols, outAt, ocg * span, cols, 0, k * span,
                        1f, dW, 0, (long) ocg * k, groups);
            }
            if (needInputGrad) {
                // dcols_g [k, count*hw] = W_g^T * dY'_g, into the columns (spent on dW), then folded into dx
                b.gemm(true, false, k, cols32, ocg, 1f, kernel.value(), 0, (long) ocg * k, outCols, outAt, ocg * span,
                        0f, cols, 0, k * span, groups);
                b.col2imBatch(cols, 0, count, all, dx, i0 * imageSize);
            }
        }
    }
}
