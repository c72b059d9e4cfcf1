package dev.shears.core.cuda;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/** Comparison helpers for the CUDA-vs-CPU parity tests: failures list the first mismatches. */
final class Parity {
    private Parity() {}

    /** Bit-for-bit equality (NaNs canonicalised), for kernels that claim exact agreement. */
    static void assertBitExact(String what, float[] cpu, float[] gpu) {
        if (cpu.length != gpu.length) fail(what + ": lengths " + cpu.length + " vs " + gpu.length);
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < cpu.length; i++) {
            if (Float.floatToIntBits(cpu[i]) != Float.floatToIntBits(gpu[i])) {
                if (bad < 5) {
                    long ulps = Math.abs((long) Float.floatToIntBits(cpu[i]) - Float.floatToIntBits(gpu[i]));
                    first.append(String.format(" [%d] cpu %.9g gpu %.9g (%d ulp);", i, cpu[i], gpu[i], ulps));
                }
                bad++;
            }
        }
        if (bad > 0) fail(what + ": " + bad + " of " + cpu.length + " elements differ in their bits:" + first);
    }

    static void assertExact(String what, byte[] cpu, byte[] gpu) {
        if (cpu.length != gpu.length) fail(what + ": lengths " + cpu.length + " vs " + gpu.length);
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < cpu.length; i++) {
            if (cpu[i] != gpu[i]) {
                if (bad < 5) first.append(String.format(" [%d] cpu %d gpu %d;", i, cpu[i], gpu[i]));
                bad++;
            }
        }
        if (bad > 0) fail(what + ": " + bad + " of " + cpu.length + " bytes differ:" + first);
    }

    /** |gpu - cpu| <= atol + rtol * |cpu| element-wise. */
    static void assertClose(String what, float[] cpu, float[] gpu, double atol, double rtol) {
        if (cpu.length != gpu.length) fail(what + ": lengths " + cpu.length + " vs " + gpu.length);
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < cpu.length; i++) {
            double e = cpu[i], a = gpu[i];
            boolean ok = (Double.isNaN(e) && Double.isNaN(a)) || Math.abs(a - e) <= atol + rtol * Math.abs(e);
            if (!ok) {
                if (bad < 5) first.append(String.format(" [%d] cpu %.9g gpu %.9g;", i, e, a));
                bad++;
            }
        }
        if (bad > 0) fail(what + ": " + bad + " of " + cpu.length + " off (atol " + atol + ", rtol " + rtol + "):" + first);
    }

    static void assertClose(String what, double cpu, double gpu, double atol, double rtol) {
        if (!(Math.abs(gpu - cpu) <= atol + rtol * Math.abs(cpu))) fail(what + ": cpu " + cpu + " gpu " + gpu);
    }

    static float[] uniform(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return v;
    }

    static byte[] mask(int n, long seed, double keep) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] m = new byte[n];
        for (int i = 0; i < n; i++) m[i] = (byte) (r.nextDouble() < keep ? 1 : 0);
        return m;
    }

    /**
     * Weights as pruning sees them: Gaussian of varied scale, a share of exact zeros (pruned),
     * -0.0, and a few repeated magnitudes (ties), so selects and tie rules are exercised.
     */
    static float[] weights(int n, long seed, double zeroShare) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble();
            if (u < zeroShare) w[i] = r.nextBoolean() ? 0f : -0f;
            else if (u < zeroShare + 0.02) w[i] = r.nextBoolean() ? 0.03125f : -0.03125f;
            else w[i] = (float) (gaussian(r) * 0.05);
        }
        return w;
    }

    private static double gaussian(SplittableRandom r) {
        double u = Math.max(r.nextDouble(), 1e-300), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
