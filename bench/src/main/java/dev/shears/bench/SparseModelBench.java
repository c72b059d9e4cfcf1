package dev.shears.bench;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cpu.HostKernels;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.MagnitudePruner;
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

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Whole-model inference latency of a magnitude-pruned model, dense (the model's own forward) or
 * through the planner ({@link SparseModel}: every Dense / Conv2D layer in its fastest measured
 * format). Setup also checks that both give the same arg-max predictions and outputs within
 * 1e-4 relative, and fails the benchmark otherwise.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SparseModelBench {
    @Param({"lenet-300-100", "lenet-5"}) public String model;
    @Param({"0.9"}) public double sparsity;
    @Param({"1", "64"}) public int batch;
    @Param({"dense", "planned"}) public String mode;

    private CpuBackend be;
    private Model m;
    private SparseModel planned;
    private Tensor x;
    private ExecContext ctx;

    @Setup public void setup() {
        be = CpuBackend.create();
        m = Architectures.create(model, Shape.of(1, 28, 28), 10).bind(be, 3);
        prune(m, sparsity);
        SplittableRandom rng = new SplittableRandom(4);
        float[] xs = new float[batch * 784];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextDouble();
        x = be.upload(xs, Shape.of(batch, 1, 28, 28));
        ctx = ExecContext.inference(be);
        planned = SparseModel.plan(m, batch, new SparsePlanner());
        float[] want = be.download(m.forward(ctx, x));
        float[] got = be.download(planned.forward(x));
        int classes = want.length / batch;
        for (int b = 0; b < batch; b++) {
            if (HostKernels.argMax(want, b * classes, classes) != HostKernels.argMax(got, b * classes, classes))
                throw new IllegalStateException(model + ": planned prediction differs from dense for sample " + b);
            for (int j = 0; j < classes; j++) {
                float w = want[b * classes + j], g = got[b * classes + j];
                if (Math.abs(w - g) > 1e-4 * (1 + Math.abs(w)))
                    throw new IllegalStateException(model + ": planned output " + g + " vs dense " + w + " at [" + b + ", " + j + "]");
            }
        }
        System.err.println(model + " batch " + batch + " plans: " + planned.plans());
    }

    @Benchmark public Tensor forward() {
        return mode.equals("dense") ? m.forward(ctx, x) : planned.forward(x);
    }

    /** Masks the smallest-magnitude fraction of every kernel (layer scope), as magnitude pruning leaves it. */
    static void prune(Model m, double sparsity) {
        List<Parameter> kernels = m.parameters().stream().filter(p -> p.role() == Parameter.Role.KERNEL).toList();
        new MagnitudePruner(m.backend()).update(kernels, sparsity, dev.shears.pruning.recipe.Scope.LAYER);
    }
}
