package dev.shears.bench;

import dev.shears.core.cpu.Sgemm;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/** {@link Sgemm#gemm} on the shapes of {@link GemmShape}; GFLOP/s = 2mnk / time (RunBenchmarks computes it). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SgemmBench {
    @Param({"lenet-fwd1", "lenet-fwd2", "lenet-fwd3", "lenet-dW1", "lenet-dW2", "lenet-dW3", "lenet-dX2", "lenet-dX3",
            "square-1024", "square-2048"})
    public String shape;

    private GemmShape s;
    /** op(A) stored m x k (k x m when transposed) */
    private float[] a;
    /** op(B) stored k x n (n x k when transposed) */
    private float[] b;
    /** C, m x n */
    private float[] c;

    @Setup public void setup() {
        s = GemmShape.named(shape);
        SplittableRandom rng = new SplittableRandom(1);
        a = new float[s.m() * s.k()];
        b = new float[s.k() * s.n()];
        c = new float[s.m() * s.n()];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rng.nextDouble() - 0.5);
        for (int i = 0; i < b.length; i++) b[i] = (float) (rng.nextDouble() - 0.5);
    }

    @Benchmark public float[] gemm() {
        int lda = s.transA() ? s.m() : s.k(), ldb = s.transB() ? s.k() : s.n();
        Sgemm.gemm(s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, s.n());
        return c;
    }
}
