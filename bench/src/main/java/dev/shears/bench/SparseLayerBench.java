package dev.shears.bench;

import dev.shears.core.sparse.CsrMatrix;
import dev.shears.core.sparse.DenseMatrix;
import dev.shears.core.sparse.SparseBench;
import dev.shears.core.sparse.SparseMatrix;
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

/**
 * A 4096 -> 4096 fully connected layer, y = x W for x [batch, 4096], with W at the given
 * unstructured sparsity, dense ({@link DenseMatrix}, i.e. Sgemm) or CSR. Run with
 * {@code -p sparsity=0.5,0.6,0.7,0.8,0.9,0.95,0.99} for the break-even sweep.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SparseLayerBench {
    @Param({"4096"}) public int size;
    @Param({"0.9"}) public double sparsity;
    @Param({"1", "64"}) public int batch;
    @Param({"dense", "csr"}) public String format;

    private SparseMatrix w;
    /** [batch, size] */
    private float[] x;
    /** [batch, size] */
    private float[] y;

    @Setup public void setup() {
        float[] a = SparseBench.randomSparse(size, size, sparsity, 2024);
        w = switch (format) {
            case "dense" -> new DenseMatrix(a, size, size);
            case "csr" -> CsrMatrix.fromDense(a, size, size);
            default -> throw new IllegalArgumentException("format must be dense or csr, got " + format);
        };
        SplittableRandom rng = new SplittableRandom(3);
        x = new float[batch * size];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        y = new float[batch * size];
    }

    @Benchmark public float[] layer() {
        w.multiply(x, batch, y);
        return y;
    }
}
