package dev.shears.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sum of a float vector's lanes in one fixed order, whether the JIT has compiled the caller or
 * not. {@code FloatVector.reduceLanes(ADD)} leaves the order of its additions to the
 * implementation (its Javadoc says floating-point ADD "may vary"), and HotSpot's interpreter and
 * its C2 intrinsic do use different orders, so a reduction written with it changes its last bits
 * once a method gets hot: training runs could not be repeated bit for bit in one JVM, nor resumed
 * bit-exactly (JitDeterminismTest). Here every step is a lane-wise add of the vector and its
 * rotation by half the remaining width, a tree whose shape depends on the lane count only.
 */
public final class Lanes {
    private Lanes() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** ROTATE[i]: lane j takes lane (j + 2^i) mod length, for 2^i = length/2, length/4, ..., 1 (widest first) */
    private static final VectorShuffle<Float>[] ROTATE = rotations();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] rotations() {
        int steps = Integer.numberOfTrailingZeros(S.length());   // lane counts are powers of two
        VectorShuffle<Float>[] r = new VectorShuffle[steps];
        for (int i = 0, half = S.length() / 2; i < steps; i++, half /= 2) r[i] = VectorShuffle.iota(S, half, 1, true);
        return r;
    }

    /** The lanes of {@code v} (of the preferred species) summed as a fixed tree. */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> rot : ROTATE) v = v.add(v.rearrange(rot));
        return v.lane(0);
    }
}
