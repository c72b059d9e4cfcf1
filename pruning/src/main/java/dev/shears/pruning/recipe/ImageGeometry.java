package dev.shears.pruning.recipe;

import dev.shears.core.data.SampleLayout;
import dev.shears.core.tensor.Shape;

/**
 * How one sample's values lay out as an image, for {@link Augmentation}: C channels of H x W
 * pixels, channels-first ([C, H, W], Shears' NCHW; [H, W] is one channel) or channels-last
 * ([H, W, C], a Keras channels_last model's input).
 *
 * @param channels     C (1 for an [H, W] sample)
 * @param height       H
 * @param width        W
 * @param channelsLast whether the C values of a pixel are adjacent ([H, W, C]) rather than its channel planes ([C, H, W])
 */
public record ImageGeometry(int channels, int height, int width, boolean channelsLast) {

    /**
     * The image layout of a sample of {@code shape}, or null when it is not an image (rank 1, or
     * above 3). A rank-3 shape is channels-last where {@link SampleLayout#imageShape} reads it so
     * (a last axis of at most 4 after two longer ones, as [32, 32, 3]), else channels-first.
     */
    public static ImageGeometry of(Shape shape) {
        int[] d = shape.dims();
        if (d.length == 2) return new ImageGeometry(1, d[0], d[1], false);
        if (d.length != 3) return null;
        boolean last = !SampleLayout.imageShape(shape).equals(shape);
        return last ? new ImageGeometry(d[2], d[0], d[1], true) : new ImageGeometry(d[0], d[1], d[2], false);
    }

    /** Where channel {@code c} of pixel (y, x) is in the sample's values. */
    public int index(int c, int y, int x) {
        return channelsLast ? (y * width + x) * channels + c : (c * height + y) * width + x;
    }
}
