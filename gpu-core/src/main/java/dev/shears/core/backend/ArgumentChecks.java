package dev.shears.core.backend;

import dev.shears.core.tensor.Tensor;

/**
 * The argument checks every {@link Backend} makes before touching memory, shared so that the CPU
 * specification and the CUDA backend refuse the same calls with the same messages (the contract
 * tests compare them on both).
 */
public final class ArgumentChecks {
    private ArgumentChecks() {}

    /** Elements [offset, offset + count) lie inside {@code t}. */
    public static void checkRange(String op, Tensor t, long offset, long count) {
        if (offset < 0 || count < 0 || offset + count > t.size())
            throw new IllegalArgumentException(op + ": elements [" + offset + ", " + (offset + count) + ") outside " + t);
    }

    public static void checkSize(String op, Tensor t, long expected) {
        if (t.size() != expected) throw new IllegalArgumentException(op + ": expected " + expected + " elements, got " + t);
    }

    /** The common size of {@code a} and {@code b}. */
    public static long sameSize(String op, Tensor a, Tensor b) {
        if (a.size() != b.size()) throw new IllegalArgumentException(op + ": sizes differ, " + a + " vs " + b);
        return a.size();
    }

    /** {@code t} holds exactly [outer, channels, inner]. */
    public static void checkLayout(String op, Tensor t, int outer, int channels, int inner) {
        if (outer < 0 || channels < 0 || inner < 0 || (long) outer * channels * inner != t.size())
            throw new IllegalArgumentException(op + ": " + t + " is not [outer=" + outer + ", channels=" + channels + ", inner=" + inner + "]");
    }

    /** {@code batch} matrices of {@code matrixSize} elements, {@code stride} apart from {@code offset}, lie inside {@code t}. */
    public static void checkMatrices(String op, Tensor t, long offset, long stride, long matrixSize, int batch, boolean empty) {
        if (empty) return;
        long last = offset + (batch - 1) * stride + matrixSize;
        if (offset < 0 || stride < 0 || last > t.size())
            throw new IllegalArgumentException(op + ": " + batch + " matrices of " + matrixSize + " elements from offset " + offset
                    + " with stride " + stride + " reach element " + last + ", beyond " + t);
    }

    /**
     * {@code perm} is a permutation of 0..dims.length-1 and no dimension is negative; returns the
     * element count (the product of {@code dims}).
     */
    public static long checkPermutation(String op, int[] dims, int[] perm) {
        if (perm.length != dims.length)
            throw new IllegalArgumentException(op + ": permutation " + java.util.Arrays.toString(perm) + " has " + perm.length
                    + " axes, the dimensions " + java.util.Arrays.toString(dims) + " have " + dims.length);
        boolean[] seen = new boolean[perm.length];
        for (int p : perm) {
            if (p < 0 || p >= perm.length || seen[p])
                throw new IllegalArgumentException(op + ": " + java.util.Arrays.toString(perm) + " is not a permutation of 0.." + (perm.length - 1));
            seen[p] = true;
        }
        long n = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException(op + ": negative dimension in " + java.util.Arrays.toString(dims));
            n *= d;
        }
        return n;
    }

    /** An LRN window covers at least one channel (ONNX requires size >= 1). */
    public static void checkLrnSize(String op, int size) {
        if (size < 1) throw new IllegalArgumentException(op + ": window size " + size + " < 1; LRN sums over at least the channel itself");
    }

    /** The softmax ops' forward (Backend.softmax, logSoftmax): x and y each hold [rows, cols]. */
    public static void checkRows(String op, int rows, int cols, String xName, Tensor x, String yName, Tensor y) {
        checkSize(op + " " + xName, x, (long) rows * cols);
        checkSize(op + " " + yName, y, (long) rows * cols);
    }

    /** The softmax ops' backward (Backend.softmaxBackward, logSoftmaxBackward): y, dy and dx each hold [rows, cols]. */
    public static void checkRows(String op, int rows, int cols, String yName, Tensor y, String dyName, Tensor dy,
                                 String dxName, Tensor dx) {
        checkRows(op, rows, cols, yName, y, dyName, dy);
        checkSize(op + " " + dxName, dx, (long) rows * cols);
    }

    /** Backend.softmaxCrossEntropy's (and the CUDA step graph's captured form's): logits [rows, cols], labels [rows], dLogits (if any) as logits. */
    public static void checkCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int cols) {
        checkSize("softmaxCrossEntropy logits", logits, (long) rows * cols);
        checkSize("softmaxCrossEntropy labels", labels, rows);
        if (dLogits != null) checkSize("softmaxCrossEntropy dLogits", dLogits, (long) rows * cols);
    }

    /** Backend.distillation's: student, teacher and dLogits (if any) [rows, cols], the two logits distinct from dLogits, T > 0 and finite. */
    public static void checkDistillation(Tensor student, Tensor teacher, Tensor dLogits, float weight, float temperature, int rows, int cols) {
        checkSize("distillation student logits", student, (long) rows * cols);
        checkSize("distillation teacher logits", teacher, (long) rows * cols);
        if (dLogits != null) {
            checkSize("distillation dLogits", dLogits, (long) rows * cols);
            if (dLogits == student || dLogits == teacher)
                throw new IllegalArgumentException("distillation: dLogits must not be the " + (dLogits == student ? "student" : "teacher")
                        + " logits tensor (the gradient is added into it while the logits are read)");
        }
        if (!(temperature > 0) || Float.isInfinite(temperature))
            throw new IllegalArgumentException("distillation: temperature must be finite and greater than 0, got " + temperature);
        if (!Float.isFinite(weight)) throw new IllegalArgumentException("distillation: weight must be finite, got " + weight);
    }

    /** Backend.countCorrect's (and the CUDA step graph's captured form's): logits [rows, cols], labels [rows]. */
    public static void checkCountCorrect(Tensor logits, Tensor labels, int rows, int cols) {
        checkSize("countCorrect logits", logits, (long) rows * cols);
        checkSize("countCorrect labels", labels, rows);
    }

    /** Backend.argMaxRows's arguments: rows and cols not negative, rows x cols elements in logits, room for rows in predicted. */
    public static void checkArgMaxRows(Tensor logits, int rows, int cols, int[] predicted) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("argMaxRows: " + rows + " rows of " + cols + " columns; neither may be negative");
        checkRange("argMaxRows logits", logits, 0, (long) rows * cols);
        if (predicted.length < rows)
            throw new IllegalArgumentException("argMaxRows: " + rows + " rows but an array of " + predicted.length + " for their classes");
    }

    /** Backend.lrn's arguments: a window of at least one channel, x and y in the layout, not the same tensor. */
    public static void checkLrn(Tensor x, Tensor y, int outer, int channels, int inner, int size) {
        checkLrnSize("lrn", size);
        checkLayout("lrn x", x, outer, channels, inner);
        checkLayout("lrn y", y, outer, channels, inner);
        checkNotSame("lrn", "y", y, "x", x);
    }

    /** Backend.lrnBackward's arguments: as {@link #checkLrn}, and dx is neither x nor dy (both are read after dx is written). */
    public static void checkLrnBackward(Tensor x, Tensor dy, Tensor dx, int outer, int channels, int inner, int size) {
        checkLrnSize("lrnBackward", size);
        checkLayout("lrnBackward x", x, outer, channels, inner);
        checkLayout("lrnBackward dy", dy, outer, channels, inner);
        checkLayout("lrnBackward dx", dx, outer, channels, inner);
        checkNotSame("lrnBackward", "dx", dx, "x", x);
        checkNotSame("lrnBackward", "dx", dx, "dy", dy);
    }

    /** {@code out} is not the same tensor as {@code in}: for ops that read their input after writing outputs. */
    public static void checkNotSame(String op, String outName, Tensor out, String inName, Tensor in) {
        if (out == in)
            throw new IllegalArgumentException(op + ": " + outName + " is " + inName + " (" + out + "); it cannot run in place, pass another tensor");
    }

    /** A batch of images for im2colBatch/col2imBatch: at least one. */
    public static void checkImages(String op, int images) {
        if (images < 1) throw new IllegalArgumentException(op + ": " + images + " images; pass at least one");
    }

    /** Two ranges of n elements that must not overlap when they lie in the same tensor. */
    public static void checkDisjoint(String op, Tensor x, long xOffset, Tensor y, long yOffset, long n) {
        if (x == y && xOffset < yOffset + n && yOffset < xOffset + n)
            throw new IllegalArgumentException(op + ": the output range [" + yOffset + ", " + (yOffset + n) + ") overlaps the input range ["
                    + xOffset + ", " + (xOffset + n) + ") of " + x + "; give the output another buffer or range");
    }

    /** Backend.depthwiseConv's sizes: x [n, C, H, W], kernel [C*m, 1, kh, kw], y (or dy) [n, C*m, outH, outW], m >= 1. */
    public static void checkDepthwise(Tensor x, Tensor kernel, Tensor y, ConvGeometry g, int n, int multiplier) {
        if (multiplier < 1) throw new IllegalArgumentException("depthwise convolution: multiplier " + multiplier + " must be at least 1");
        checkSize("depthwiseConv x", x, g.imageElements(n));
        checkSize("depthwiseConv kernel", kernel, (long) g.channels() * multiplier * g.kernelH() * g.kernelW());
        checkSize("depthwiseConv y / dy", y, (long) n * g.channels() * multiplier * g.outH() * g.outW());
    }

    /** Backend.depthwiseConvBackward's: as {@link #checkDepthwise}, and dx (where non-null) as x, dW (where non-null) as the kernel. */
    public static void checkDepthwiseBackward(Tensor x, Tensor kernel, Tensor dy, Tensor dx, Tensor dW, ConvGeometry g, int n, int multiplier) {
        checkDepthwise(x, kernel, dy, g, n, multiplier);
        if (dx != null) checkSize("depthwiseConvBackward dx", dx, g.imageElements(n));
        if (dW != null) checkSize("depthwiseConvBackward dW", dW, kernel.size());
    }
}
