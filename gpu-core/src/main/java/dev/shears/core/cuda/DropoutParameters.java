package dev.shears.core.cuda;

/**
 * The drop threshold and scale the dropout kernel takes, computed exactly as the CPU backend's
 * counter-based generator does (see DropoutHash in dev.shears.core.cpu): threshold =
 * (int)(rate * 2^24) with a float multiply, scale = 1 / (1 - rate) in float.
 */
final class DropoutParameters {
    private DropoutParameters() {}

    static int threshold(float rate) {
        if (!(rate >= 0f && rate < 1f)) throw new IllegalArgumentException("dropout rate " + rate + " outside [0, 1)");
        return (int) (rate * 16777216.0f);
    }

    static float scale(float rate) { return 1.0f / (1.0f - rate); }
}
