package dev.shears.core.data;

import dev.shears.core.cpu.Parallel;
import dev.shears.core.tensor.Shape;
import dev.shears.core.util.HeapBudget;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Fits images decoded from files ({@link ImageFolder}, samples [C, H, W] in [0, 1]) to a model's
 * image input once the model is known: to its number of channels, then to its height and width.
 * Called by {@link SampleLayout#arrange} for image data sets only ({@link Dataset#images()});
 * arrays (IDX, NumPy) are never converted nor resized. Each step is said once on the log.
 *
 * <ul>
 *   <li>Colour to gray (a model taking 1 channel): ITU-R BT.601 luma,
 *       {@code 0.299 R + 0.587 G + 0.114 B}, on the floats (not rounded to 8 bits as PIL's
 *       {@code convert("L")} does).</li>
 *   <li>Gray to colour (a model taking 3): the gray plane repeated into R, G and B.</li>
 *   <li>Another height or width: bilinear interpolation with half-pixel centres, source
 *       coordinate {@code (out + 0.5) * in / outSize - 0.5} clamped into the image, the rule of
 *       {@code tf.image.resize} (which Keras' {@code image_dataset_from_directory} resizes with)
 *       and of PyTorch's {@code interpolate(..., align_corners=False)}; no antialiasing, so a
 *       shrink by more than 2x skips pixels as those do.</li>
 * </ul>
 *
 * A model input is an image when it is {@code [C, H, W]} or {@code [H, W, C]} with C 1 or 3 (the
 * channel axis told apart by being the only one of size 1 or 3), or {@code [H, W]} (one gray
 * plane); the result is {@code [C, H, W]}, which {@link SampleLayout#arrange} then moves
 * channels-last for a Keras model. Any other input (a flat vector) takes the images as they are.
 */
public final class ImageFit {
    private ImageFit() {}

    /** ITU-R BT.601 luma of linear-in-the-file R, G, B values. */
    static float luma(float r, float g, float b) {
        return 0.299f * r + 0.587f * g + 0.114f * b;
    }

    /** A model input read as an image: its channels (1 or 3), height and width. */
    record Target(int channels, int height, int width) {}

    /** {@code input} as an image, or null when it is not one (a flat vector; no axis alone of size 1 or 3). */
    static Target target(Shape input) {
        int[] d = input.dims();
        if (d.length == 2) return new Target(1, d[0], d[1]);
        if (d.length != 3) return null;
        boolean first = d[0] == 1 || d[0] == 3, last = d[2] == 1 || d[2] == 3;
        if (first && !last) return new Target(d[0], d[1], d[2]);
        if (last && !first) return new Target(d[2], d[0], d[1]);
        return null;
    }

    /**
     * Whether image samples of {@code data} (from an image folder: [C, H, W], C 1 or 3) can be
     * made into {@code input} by {@link #fit}: what a command checks before the data and the model
     * meet, the sizes alone not deciding for images.
     */
    public static boolean fits(Shape data, Shape input) {
        int[] d = data.dims();
        return d.length == 3 && (d[0] == 1 || d[0] == 3) && target(input) != null;
    }

    /**
     * {@code data} with the model's channels, height and width ([C, H, W]) when it is an image
     * set whose samples differ from them; else {@code data} itself. The floats are new (the
     * samples' sizes change); the old ones are garbage afterwards.
     */
    public static Dataset fit(Dataset data, Shape input, PrintStream log) {
        if (!data.images() || !fits(data.sampleShape(), input)) return data;
        Target t = target(input);
        int[] d = data.sampleShape().dims();
        int c = d[0], h = d[1], w = d[2];
        if (c == t.channels() && h == t.height() && w == t.width()) return data;
        int n = data.count(), outPer = t.channels() * t.height() * t.width();
        long values = (long) n * outPer;
        if (values > Integer.MAX_VALUE - 16)
            throw new DataException(data.name() + ": " + n + " images at the model's input " + input + " are " + values
                    + " floats, more than one Java array holds; use fewer images");
        HeapBudget.requireForData(values * Float.BYTES, data.name() + ": " + n + " images resized to " + input, DataException::new);
        float[] src = data.features(), out = new float[(int) values];
        int inPer = c * h * w, plane = h * w;
        Parallel.forRange(n, 16, (s0, s1) -> {
            float[] chans = new float[t.channels() * plane]; // one sample at the model's channels, the file's size
            for (int s = s0; s < s1; s++) {
                int at = s * inPer;
                if (c == t.channels()) System.arraycopy(src, at, chans, 0, inPer);
                else if (c == 3) // colour to gray
                    for (int p = 0; p < plane; p++) chans[p] = luma(src[at + p], src[at + plane + p], src[at + 2 * plane + p]);
                else // gray to colour
                    for (int k = 0; k < 3; k++) System.arraycopy(src, at, chans, k * plane, plane);
                for (int k = 0; k < t.channels(); k++)
                    resize(chans, k * plane, h, w, out, s * outPer + k * t.height() * t.width(), t.height(), t.width());
            }
        });
        if (c != t.channels())
            log.println("data: " + data.name() + ": " + (c == 3 ? "colour images made gray (ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B)"
                    : "gray images repeated into R, G and B") + " for the model's " + t.channels() + "-channel input " + input);
        if (h != t.height() || w != t.width())
            log.println(String.format(Locale.ROOT, "data: %s: images resized from %dx%d to the model's %dx%d (height x width; bilinear, half-pixel centres"
                    + " as tf.image.resize)", data.name(), h, w, t.height(), t.width()));
        return new Dataset(data.name(), Shape.of(t.channels(), t.height(), t.width()), out, data.labels(), data.classes(), true, data.classNames());
    }

    /**
     * Bilinear resize of one plane {@code src[from ..]} of {@code h x w} into {@code dst[to ..]}
     * of {@code oh x ow}, half-pixel centres; the same size copies the values exactly.
     */
    static void resize(float[] src, int from, int h, int w, float[] dst, int to, int oh, int ow) {
        float sy = (float) h / oh, sx = (float) w / ow;
        for (int oy = 0; oy < oh; oy++) {
            float y = Math.max(0f, (oy + 0.5f) * sy - 0.5f);
            int y0 = Math.min((int) y, h - 1), y1 = Math.min(y0 + 1, h - 1);
            float fy = y - y0;
            for (int ox = 0; ox < ow; ox++) {
                float x = Math.max(0f, (ox + 0.5f) * sx - 0.5f);
                int x0 = Math.min((int) x, w - 1), x1 = Math.min(x0 + 1, w - 1);
                float fx = x - x0;
                float top = src[from + y0 * w + x0] + (src[from + y0 * w + x1] - src[from + y0 * w + x0]) * fx;
                float bottom = src[from + y1 * w + x0] + (src[from + y1 * w + x1] - src[from + y1 * w + x0]) * fx;
                dst[to + oy * ow + ox] = top + (bottom - top) * fy;
            }
        }
    }
}
