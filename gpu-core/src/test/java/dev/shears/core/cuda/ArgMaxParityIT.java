package dev.shears.core.cuda;

import dev.shears.core.nn.ClassTally;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * argmax.cu against its CPU twin (HostKernels.argMaxRows through CpuBackend.argMaxRows): exact, an
 * index is right or wrong. Seeded logits drawn from a few values, so rows have tied maxima, some
 * spread over lanes (the first must win whichever lane holds it); NaN in the first column, in the
 * middle and in every column; infinities; -0 and +0 (equal: the first wins); one column; more
 * columns than a warp has lanes; rows not a multiple of a block's eight. Then {@link ClassTally}
 * gives the same per-class counts on both backends, and they add up to countCorrect's.
 */
class ArgMaxParityIT extends GpuParityFixture {

    /** Logits [rows, cols] drawn from {-1, 0, 0.5, 2} with share {@code special} of NaN, +-Inf and +-0. */
    private static float[] logits(int rows, int cols, long seed, double special) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] pool = {-1f, 0f, 0.5f, 2f};
        float[] odd = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f};
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++)
            x[i] = r.nextDouble() < special ? odd[r.nextInt(odd.length)] : pool[r.nextInt(pool.length)];
        return x;
    }

    private void check(String what, float[] x, int rows, int cols, int tensorRows) {
        int[] onCpu = new int[rows], onGpu = new int[rows];
        Arrays.fill(onGpu, -7); // a row the kernel skipped shows
        cpu.argMaxRows(cpu.upload(x, Shape.of(tensorRows, cols)), rows, cols, onCpu);
        try (Tensor g = gpu.upload(x, Shape.of(tensorRows, cols))) {
            gpu.argMaxRows(g, rows, cols, onGpu);
        }
        for (int r = 0; r < rows; r++)
            if (onCpu[r] != onGpu[r])
                fail(what + ": row " + r + " predicted " + onGpu[r] + " on the GPU, " + onCpu[r] + " on the CPU; row "
                        + Arrays.toString(Arrays.copyOfRange(x, r * cols, (r + 1) * cols)));
    }

    @Test
    void tiesNanAndInfinitiesAsOnTheCpu() {
        check("10 classes", logits(203, 10, 1, 0.1), 203, 10, 203);
        check("1000 classes", logits(37, 1000, 2, 0.02), 37, 1000, 37);
        check("33 classes: a lane holds two columns", logits(64, 33, 3, 0.2), 64, 33, 64);
        check("one column", logits(19, 1, 4, 0.5), 19, 1, 19);
        check("many specials", logits(50, 70, 5, 0.9), 50, 70, 50);
    }

    @Test
    void hardRows() {
        float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
        float[][] rows = {
                {nan, 1f, 3f, 3f, 2f},           // NaN first: the first maximum after it, not class 0
                {nan, nan, nan, nan, nan},       // only NaN: class 0
                {-inf, -inf, -inf, -inf, -inf},  // all -Inf: the first
                {-0f, 0f, -0f, 0f, -1f},         // -0 == +0: the first
                {1f, inf, nan, inf, 5f},         // the first +Inf
                {-inf, nan, -inf, nan, -inf},    // -Inf beats nothing but NaN
        };
        float[] x = new float[rows.length * 5];
        for (int r = 0; r < rows.length; r++) System.arraycopy(rows[r], 0, x, r * 5, 5);
        int[] expected = {2, 0, 0, 0, 1, 0};
        int[] onCpu = new int[rows.length];
        cpu.argMaxRows(cpu.upload(x, Shape.of(rows.length, 5)), rows.length, 5, onCpu);
        assertArrayEquals(expected, onCpu, "the CPU's rule");
        check("hard rows", x, rows.length, 5, rows.length);
        // tied maxima in one lane (columns 8 and 40: lane 8 meets 8 first) and across lanes with the
        // later column in the lower lane (33 in lane 1 against 2 in lane 2; 64 in lane 0 against 30)
        float[] wide = new float[3 * 70];
        wide[40] = 9f; wide[8] = 9f;
        wide[70 + 33] = 9f; wide[70 + 2] = 9f;
        wide[140 + 64] = 9f; wide[140 + 30] = 9f;
        int[] got = new int[3];
        try (Tensor g = gpu.upload(wide, Shape.of(3, 70))) {
            gpu.argMaxRows(g, 3, 70, got);
        }
        assertArrayEquals(new int[]{8, 2, 30}, got);
    }

    @Test
    void onlyTheFirstRowsOfALargerBufferAreRead() {
        float[] x = logits(64, 12, 6, 0.1);
        for (int i = 50 * 12; i < x.length; i++) x[i] = Float.NaN;
        check("50 of 64 rows", x, 50, 12, 64);
        int[] none = new int[0];
        try (Tensor g = gpu.upload(x, Shape.of(64, 12))) {
            gpu.argMaxRows(g, 0, 12, none);
            var e = assertThrows(IllegalArgumentException.class, () -> gpu.argMaxRows(g, 65, 12, new int[65]));
            assertTrue(e.getMessage().contains("argMaxRows logits"), e.getMessage());
            var small = assertThrows(IllegalArgumentException.class, () -> gpu.argMaxRows(g, 10, 12, new int[9]));
            assertTrue(small.getMessage().contains("10 rows but an array of 9"), small.getMessage());
        }
    }

    @Test
    void perClassCountsMatchTheCpuAndAddUpToCountCorrect() {
        int samples = 150, classes = 7, batch = 64;
        SplittableRandom r = new SplittableRandom(9);
        int[] labels = new int[samples];
        for (int i = 0; i < samples; i++) labels[i] = r.nextInt(classes);
        float[] x = logits(samples, classes, 10, 0.05);
        ClassTally onCpu = new ClassTally(labels), onGpu = new ClassTally(labels);
        long right = 0;
        for (int s = 0; s < samples; s += batch) {
            int n = Math.min(batch, samples - s);
            float[] part = Arrays.copyOfRange(x, s * classes, (s + n) * classes);
            onCpu.batch(cpu, cpu.upload(part, Shape.of(n, classes)), n);
            try (Tensor g = gpu.upload(part, Shape.of(n, classes));
                 Tensor l = gpu.uploadInts(Arrays.copyOfRange(labels, s, s + n), Shape.of(n))) {
                onGpu.batch(gpu, g, n);
                right += gpu.countCorrect(g, l, n, classes);
            }
        }
        assertEquals(onCpu.counts(), onGpu.counts());
        assertEquals(samples, onGpu.counts().samples());
        assertEquals(right, onGpu.counts().right(), "per-class right answers add up to countCorrect's");
    }
}
