package dev.shears.io.keras;

import java.util.Arrays;

/**
 * One weight array as a Keras file stores it, in Keras layout.
 *
 * @param name  its name in the file, e.g. {@code dense_1/kernel:0}, {@code dense_1_W:0} or {@code vars/0}
 * @param role  the canonical Keras 2 role ({@code kernel}, {@code bias}, {@code gamma}, {@code beta},
 *              {@code moving_mean}, {@code moving_variance}, {@code alpha},
 *              {@code depthwise_kernel}, {@code pointwise_kernel}) read from the name, or
 *              null where the file names weights by position only (Keras 3)
 * @param shape its dimensions as stored
 * @param data  the values, row-major over {@code shape}
 */
record StoredWeight(String name, String role, int[] shape, float[] data) {

    /** Keras 1 names (suffix after the layer name) and Keras 2/3 names, mapped to the Keras 2 role. */
    private static final String[][] ALIASES = {
            // before "kernel", which they end with (DepthwiseConv2D, SeparableConv2D)
            {"depthwise_kernel", "depthwise_kernel"}, {"pointwise_kernel", "pointwise_kernel"},
            {"moving_variance", "moving_variance"}, {"running_std", "moving_variance"},
            {"moving_mean", "moving_mean"}, {"running_mean", "moving_mean"},
            {"kernel", "kernel"}, {"W", "kernel"},
            {"bias", "bias"}, {"b", "bias"},
            {"gamma", "gamma"}, {"beta", "beta"},
            {"alphas", "alpha"}, {"alpha", "alpha"},
    };

    /** The role a stored weight name denotes, or null when it denotes none Shears knows. */
    static String roleOf(String weightName) {
        String n = weightName;
        int colon = n.lastIndexOf(':');
        if (colon > 0) n = n.substring(0, colon);
        for (String[] a : ALIASES) {
            if (n.equals(a[0]) || n.endsWith("/" + a[0]) || n.endsWith("_" + a[0])) return a[1];
        }
        return null;
    }

    @Override public String toString() { return name + Arrays.toString(shape); }
}
