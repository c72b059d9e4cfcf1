package dev.shears.pruning.recipe;

import dev.shears.core.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * Random data augmentation of the training batches (the standard CIFAR recipe of He et al. 2016,
 * "Deep Residual Learning for Image Recognition", section 4.2, as Keras and torchvision users
 * write it: {@code RandomCrop(H, padding=P)} then {@code RandomHorizontalFlip()}). Applied on the
 * host to every training sample before its batch goes to the backend; never to the test set.
 *
 * <p>Flipping is the user's choice: it suits photographs and clothes (Fashion-MNIST) but not
 * images whose meaning changes in a mirror (digits, text).
 *
 * @param flip mirror each image left to right with probability 0.5
 * @param crop P: pad each image with P zero pixels on every side and crop it back to H x W at a
 *             random offset (each of the (2P + 1)^2 offsets equally likely); 0: no crop. At most
 *             half the image's smaller side ({@link #requireFits})
 */
public record Augmentation(boolean flip, int crop) {
    /** What {@code --augment} with no value turns on: flip and a crop with 4 pixels of padding (the CIFAR recipe's). */
    public static final Augmentation DEFAULTS = new Augmentation(true, 4);

    public Augmentation {
        if (crop < 0)
            throw new RecipeException("augmentation.crop: " + crop + " is negative; it is P, the zero padding on each side before the random crop"
                    + " (4 is the CIFAR recipe's), or 0 for no crop");
        if (!flip && crop == 0)
            throw new RecipeException("augmentation: turns nothing on (flip: false, crop: 0); give flip: true and/or crop: P, or leave the block out");
    }

    /**
     * Checks that the training samples are images this augmentation can transform, and returns
     * their layout: the model's input shape where it is an image ([C, H, W], channels-last
     * [H, W, C] as {@link ImageGeometry#of} reads it, or [H, W]), else the data's sample shape
     * where that is one (an MLP taking a flat vector, trained on [28, 28] images); a crop P of at
     * most half the smaller of H and W.
     *
     * @param modelInput the model's per-sample input shape
     * @param sample     the training data's per-sample shape (the same values, in the model's layout)
     * @param dataName   the data set, named in the error
     * @throws RecipeException naming the sample shape, or the crop and the image size
     */
    public ImageGeometry requireFits(Shape modelInput, Shape sample, String dataName) {
        return requireFits(modelInput, sample, dataName, null);
    }

    /**
     * As {@link #requireFits(Shape, Shape, String)}, naming where the augmentation came from.
     *
     * @param origin what the user gave, such as {@code --augment crop:20}, to name in the error instead of the recipe
     *               field {@code augmentation.crop}; null for a recipe's {@code augmentation:} block
     */
    public ImageGeometry requireFits(Shape modelInput, Shape sample, String dataName, String origin) {
        ImageGeometry g = ImageGeometry.of(modelInput);
        if (g == null) g = ImageGeometry.of(sample);
        String what = origin == null ? "augmentation.crop: " + crop : origin + ": crop " + crop; // names the value as the user gave it
        if (g == null)
            throw new RecipeException((origin == null ? "augmentation (" + spec() + ")" : origin) + " works on image samples [C, H, W] or [H, W], but " + dataName + " has samples of shape "
                    + sample + (sample.equals(modelInput) ? "" : " (the model takes " + modelInput + ")")
                    + ", not an image; train without augmentation (leave out --augment and the recipe's augmentation block)");
        int max = Math.min(g.height(), g.width()) / 2;
        if (crop > 0 && max == 0)
            throw new RecipeException(what + ": the " + g.height() + " x " + g.width() + " images of " + dataName
                    + " are too small to crop (a side of 1 pixel); use flip alone or no augmentation");
        if (crop > max)
            throw new RecipeException(what + " is more than half the " + g.height() + " x " + g.width() + " images of "
                    + dataName + "; give 1.." + max + " (the zero padding on each side before the random crop)");
        return g;
    }

    /** One line for logs and reports. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        if (flip) parts.add("random horizontal flip (p = 0.5)");
        if (crop > 0) parts.add("random crop after " + crop + "-pixel zero padding");
        return "augmentation: " + String.join(", ", parts) + " (training batches only)";
    }

    /** The short form {@code --augment} takes and the report shows: {@code flip,crop:4}, {@code flip}, {@code crop:2}. */
    public String spec() {
        List<String> parts = new ArrayList<>();
        if (flip) parts.add("flip");
        if (crop > 0) parts.add("crop:" + crop);
        return String.join(",", parts);
    }

    /**
     * Reads the short form: comma-separated {@code flip} and {@code crop:P} (either or both).
     *
     * @throws RecipeException naming the part it cannot read
     */
    public static Augmentation parse(String spec) {
        boolean flip = false;
        Integer crop = null;
        if (spec == null || spec.isBlank()) throw new RecipeException("augmentation: is empty; give flip, crop:P or flip,crop:P");
        for (String raw : spec.split(",", -1)) {
            String part = raw.strip();
            if (part.equals("flip")) {
                if (flip) throw new RecipeException("augmentation '" + spec + "': flip is given twice");
                flip = true;
            } else if (part.startsWith("crop:") || part.equals("crop")) {
                if (crop != null) throw new RecipeException("augmentation '" + spec + "': crop is given twice");
                String p = part.equals("crop") ? "" : part.substring(5).strip();
                try {
                    crop = Integer.parseInt(p);
                } catch (NumberFormatException e) {
                    throw new RecipeException("augmentation '" + spec + "': crop needs its padding as a whole number of pixels, crop:P (crop:4), got '" + part + "'");
                }
            } else {
                throw new RecipeException("augmentation '" + spec + "': '" + part + "' is not flip or crop:P; give e.g. flip,crop:4");
            }
        }
        // said here in the short form's words: the record's own checks speak of the recipe block's fields
        if (crop != null && crop < 0)
            throw new RecipeException("augmentation '" + spec + "': crop:" + crop + " is negative; give crop:P with P >= 1 pixels of zero padding on each side (crop:4 is the CIFAR recipe's)");
        if (!flip && crop != null && crop == 0)
            throw new RecipeException("augmentation '" + spec + "': crop:0 turns nothing on; give crop:P with P >= 1, flip, or both (flip,crop:4)");
        return new Augmentation(flip, crop == null ? 0 : crop);
    }
}
