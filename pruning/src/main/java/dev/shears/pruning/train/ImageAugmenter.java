package dev.shears.pruning.train;

import dev.shears.pruning.recipe.Augmentation;
import dev.shears.pruning.recipe.ImageGeometry;

import java.util.SplittableRandom;

/**
 * Applies a recipe's {@link Augmentation} to training samples on the host, as each batch is
 * gathered: the same floats reach every backend (the CPU's batch tensor, a CUDA graph's pinned
 * input buffer).
 *
 * <p>Each sample's draws (flip or not, the crop's offset) are a pure function of the run's seed,
 * the epoch and the sample's index in the training split, never of the order in which samples are
 * drawn: a resumed run, a run on another backend and a batch gathered ahead (a CUDA graph's
 * prefill) all see the same images.
 *
 * <p>The transform, per channel: pad with P zero pixels on each side, take the H x W window at
 * offset (dy, dx) in [0, 2P]^2, then mirror it left to right when flipping. Output pixel (y, x) is
 * input pixel (y + dy - P, x' + dx - P), x' = W - 1 - x when flipping else x, and 0 where that lies
 * in the padding. Offset (P, P) without a flip is the image itself.
 */
final class ImageAugmenter {
    /** Mixed into the seed so the augmentation's stream is unrelated to the shuffling's and dropout's. */
    private static final long SALT = 0x6A09E667F3BCC909L;

    private final Augmentation augmentation;
    private final ImageGeometry geometry;
    private final long seed;

    /** One sample's random choices: mirror it, and the crop window's top-left corner in the padded image ([0, 2P] each). */
    record Draw(boolean flip, int dy, int dx) {}

    ImageAugmenter(Augmentation augmentation, ImageGeometry geometry, long seed) {
        this.augmentation = augmentation;
        this.geometry = geometry;
        this.seed = seed;
    }

    /** The choices for training sample {@code sample} (its index in the training split) in epoch {@code epoch} (0-based). */
    Draw draw(int epoch, int sample) {
        SplittableRandom rng = new SplittableRandom(GmpTrainer.mix(GmpTrainer.mix(seed ^ SALT, epoch), sample));
        // always three draws, whatever is on: each choice has its fixed place in the stream
        boolean flip = rng.nextInt(2) == 1;
        int span = 2 * augmentation.crop() + 1;
        int dy = rng.nextInt(span), dx = rng.nextInt(span);
        return new Draw(augmentation.flip() && flip, dy, dx);
    }

    /**
     * Writes training sample {@code sample}, augmented for {@code epoch}, from {@code src} at
     * {@code srcOffset} into {@code dst} at {@code dstOffset} (one sample's values each).
     */
    void apply(float[] src, int srcOffset, float[] dst, int dstOffset, int epoch, int sample) {
        Draw d = draw(epoch, sample);
        transform(src, srcOffset, dst, dstOffset, geometry, d.flip(), d.dy(), d.dx(), augmentation.crop());
    }

    /**
     * The transform itself (see the class comment) for given choices; {@code dst} must not overlap
     * {@code src}'s sample.
     *
     * @param pad P, the zero padding on each side; dy and dx in [0, 2P]
     */
    static void transform(float[] src, int srcOffset, float[] dst, int dstOffset, ImageGeometry g, boolean flip, int dy, int dx, int pad) {
        int h = g.height(), w = g.width();
        if (dy < 0 || dy > 2 * pad || dx < 0 || dx > 2 * pad)
            throw new IllegalArgumentException("crop offset (" + dy + ", " + dx + ") is outside [0, " + 2 * pad + "] for padding " + pad);
        for (int c = 0; c < g.channels(); c++) {
            for (int y = 0; y < h; y++) {
                int sy = y + dy - pad;
                boolean rowInside = sy >= 0 && sy < h;
                for (int x = 0; x < w; x++) {
                    int sx = (flip ? w - 1 - x : x) + dx - pad;
                    dst[dstOffset + g.index(c, y, x)] = rowInside && sx >= 0 && sx < w ? src[srcOffset + g.index(c, sy, sx)] : 0f;
                }
            }
        }
    }
}
