package dev.shears.core.data;

import dev.shears.core.tensor.Shape;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * How a data set's per-sample shape meets a model's input shape. The same values in the same
 * order fit as they are: the same shape up to dimensions of 1 ({@code [28, 28]} for
 * {@code [1, 28, 28]}), or any shape of the right size for a model taking a flat vector, since
 * neither moves a value. Images stored channels-last ({@code [H, W, C]}, NumPy/Keras' NHWC) for a
 * model taking {@code [C, H, W]} (Shears' IR is NCHW: ONNX models, Shears' own) fit once the last
 * axis moves first, and the reverse ({@code [C, H, W]} data for a Keras channels_last model taking
 * {@code [H, W, C]}); {@link #arrange} does that once, at load. Anything else of the right size
 * would be read scrambled, and is refused.
 */
public final class SampleLayout {
    private SampleLayout() {}

    /** What {@link #arrange} does to the samples. */
    public enum Move {
        /** The values are already in the model's order. */
        NONE,
        /** [d1..dk, C] to [C, d1..dk]: channels-last data for a channels-first model. */
        LAST_AXIS_FIRST,
        /** [C, d1..dk] to [d1..dk, C]: channels-first data for a channels-last model. */
        FIRST_AXIS_LAST
    }

    /**
     * Whether {@code dims} hold a sample of {@code sample} in its own order (dimensions of 1
     * aside), or flatten into it.
     */
    public static boolean sameLayout(int[] dims, Shape sample) {
        long size = 1;
        for (int v : dims) size *= v;
        if (size != sample.size()) return false;
        int[] want = squeeze(sample.dims());
        if (want.length <= 1) return true; // a flat vector (or a scalar): row-major flattening moves nothing
        return Arrays.equals(squeeze(dims), want);
    }

    /**
     * The move that makes samples of {@code data} into the model's {@code input}, or null when
     * none does (the sizes differ, or the values would be scrambled).
     */
    public static Move moveFor(Shape data, Shape input) {
        if (sameLayout(data.dims(), input)) return Move.NONE;
        if (data.size() != input.size()) return null;
        int[] d = squeeze(data.dims()), m = squeeze(input.dims());
        if (d.length < 2 || d.length != m.length) return null;
        int k = d.length;
        boolean lastFirst = d[k - 1] == m[0] && Arrays.equals(d, 0, k - 1, m, 1, k);
        boolean firstLast = d[0] == m[k - 1] && Arrays.equals(d, 1, k, m, 0, k - 1);
        // both only when the shape repeats with period 2 ([a, b, a, b]): for rank 3 or more they are two different
        // orders and nothing says which the data is in (for rank 2 they are the same transpose)
        if (lastFirst && firstLast && k > 2) return null;
        return lastFirst ? Move.LAST_AXIS_FIRST : firstLast ? Move.FIRST_AXIS_LAST : null;
    }

    /** Null when samples of {@code data} can feed a model taking {@code input} ({@link #moveFor}), else why not. */
    public static String mismatch(Shape data, Shape input) {
        if (moveFor(data, input) != null) return null;
        if (data.size() != input.size())
            return "the model takes inputs of shape " + input + " (" + input.size() + " values), but the data's samples have shape " + data
                    + " (" + data.size() + " values)";
        int[] d = squeeze(data.dims());
        if (d.length > 2 && d.length == squeeze(input.dims()).length) {
            int[] lastFirst = new int[d.length];
            lastFirst[0] = d[d.length - 1];
            System.arraycopy(d, 0, lastFirst, 1, d.length - 1);
            if (Arrays.equals(lastFirst, squeeze(input.dims())))
                return "the data's samples have shape " + data + ", the model takes " + input + ": that is either the last axis moved first"
                        + " or the first moved last, and the shapes cannot tell which; reorder the axes to the model's (numpy x.transpose(...))";
        }
        return "the data's samples have shape " + data + ", the model takes " + input + ": the same number of values in another layout,"
                + " which the model would read scrambled (only moving the channel axis, [H, W, C] <-> [C, H, W], is done for you);"
                + " reorder the axes to the model's (e.g. numpy x.transpose(...))";
    }

    /**
     * {@code data} arranged for a model taking {@code input}: itself when already in order, else
     * with its samples moved into the model's layout, said once on {@code log}. The move is made in
     * place, one sample at a time through a buffer of one sample (no second copy of the data set):
     * {@code data}'s feature array belongs to the result afterwards, and {@code data} must not be used.
     *
     * <p>Images decoded from files ({@link Dataset#images()}) are first made into the model's
     * channels and size ({@link ImageFit#fit}), into new floats.
     *
     * @throws DataException naming both shapes when the samples cannot fit ({@link #mismatch})
     */
    public static Dataset arrange(Dataset data, Shape input, PrintStream log) {
        data = ImageFit.fit(data, input, log);
        Move move = moveFor(data.sampleShape(), input);
        if (move == null) throw new DataException(data.name() + ": " + mismatch(data.sampleShape(), input));
        if (move == Move.NONE) return data;
        int[] d = squeeze(data.sampleShape().dims());
        int per = data.sampleSize();
        int channels = move == Move.LAST_AXIS_FIRST ? d[d.length - 1] : d[0];
        int inner = per / channels;
        float[] f = data.features(), sample = new float[per];
        for (int s = 0, base = 0; s < data.count(); s++, base += per) {
            System.arraycopy(f, base, sample, 0, per);
            if (move == Move.LAST_AXIS_FIRST) { // sample[p * C + c] -> f[c * inner + p]
                for (int p = 0; p < inner; p++)
                    for (int c = 0; c < channels; c++) f[base + c * inner + p] = sample[p * channels + c];
            } else { // sample[c * inner + p] -> f[p * C + c]
                for (int c = 0; c < channels; c++)
                    for (int p = 0; p < inner; p++) f[base + p * channels + c] = sample[c * inner + p];
            }
        }
        log.println("data: " + data.name() + ": samples " + data.sampleShape() + " moved to the model's input layout " + input
                + (move == Move.LAST_AXIS_FIRST ? " (channels-last data, last axis first)" : " (channels-first data, first axis last)"));
        return new Dataset(data.name(), input, f, data.labels(), data.classes(), false, data.classNames());
    }

    /**
     * The [C, H, W] image shape to build a convolutional model for, from samples of {@code sample}:
     * [1, H, W] for grayscale [H, W] (Keras' MNIST shape), [C, H, W] for channels-last [H, W, C]
     * with at most 4 channels and more rows and columns than that (NumPy/Keras' RGB(A) images);
     * any other shape as it is. {@link #arrange} then moves the samples to it.
     */
    public static Shape imageShape(Shape sample) {
        int[] d = sample.dims();
        if (d.length == 2) return Shape.of(1, d[0], d[1]);
        if (d.length == 3 && d[2] <= 4 && d[0] > 4 && d[1] > 4) return Shape.of(d[2], d[0], d[1]);
        return sample;
    }

    private static int[] squeeze(int[] dims) {
        return Arrays.stream(dims).filter(v -> v != 1).toArray();
    }
}
