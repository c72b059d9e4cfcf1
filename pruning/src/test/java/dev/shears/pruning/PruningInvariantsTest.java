package dev.shears.pruning;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.optim.Adam;
import dev.shears.core.optim.Optimizer;
import dev.shears.core.optim.Sgd;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.pruning.recipe.Scope;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The invariants PyTorch's {@code torch/nn/utils/prune.py} tests check, ported: an all-ones mask
 * changes nothing; pruned weights (and their optimizer state) stay zero through optimizer steps;
 * removing the pruning keeps the outputs identical.
 */
class PruningInvariantsTest {
    private static final int BATCH = 16;
    private final Backend be = new CpuBackend(1);
    private final Dataset data = TestModels.blobs("blobs", BATCH, 20, 4, 0.2, 7);
    private final Tensor x = be.upload(data.features(), Shape.of(BATCH, 20));
    private final Tensor y = be.uploadInts(data.labels(), Shape.of(BATCH));
    private final Tensor dLogits = be.allocate(Shape.of(BATCH, 4), DType.FLOAT32);

    private Model model() { return TestModels.mlp(20, 16, 12, 4, false).bind(be, 123); }

    private List<Parameter> kernels(Model m) { return m.parameters().stream().filter(Parameter::prunableByDefault).toList(); }

    private float[] forward(Model m) { return be.download(m.forward(ExecContext.inference(be), x)); }

    private void trainStep(Model m, Optimizer opt) {
        ExecContext ctx = new ExecContext(be, true, 1);
        Tensor logits = m.forward(ctx, x);
        be.softmaxCrossEntropy(logits, y, dLogits, 1f / BATCH, BATCH, 4);
        m.zeroGrad();
        m.backward(ctx, dLogits);
        opt.step(0.05f);
    }

    private static List<float[]> values(Backend be, Model m) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : m.parameters()) out.add(be.download(p.value()));
        return out;
    }

    @Test void anAllOnesMaskChangesNothing() {
        Model plain = model();
        Model masked = model();
        for (Parameter p : kernels(masked)) {
            Tensor ones = be.allocate(p.shape(), DType.UINT8);
            be.fill(ones, 1);
            p.setMask(ones);
        }
        assertArrayEquals(forward(plain), forward(masked));
        Optimizer a = new Sgd(be, plain.parameters(), 0.9f, true, 1e-3f);
        Optimizer b = new Sgd(be, masked.parameters(), 0.9f, true, 1e-3f);
        for (int i = 0; i < 5; i++) {
            trainStep(plain, a);
            trainStep(masked, b);
        }
        List<float[]> va = values(be, plain), vb = values(be, masked);
        for (int i = 0; i < va.size(); i++) assertArrayEquals(va.get(i), vb.get(i), "parameter " + i);
        assertArrayEquals(forward(plain), forward(masked));
    }

    /** The optimizer's state tensors for parameter i, to check that masked entries stay zero. */
    private static List<Tensor> state(Optimizer o, int i) {
        return switch (o) {
            case Sgd s -> List.of(s.velocity(i));
            case Adam a -> List.of(a.firstMoment(i), a.secondMoment(i));
            default -> throw new IllegalArgumentException(o.describe());
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd-momentum", "sgd-nesterov", "adam", "adamw"})
    void prunedWeightsAndTheirStateStayZeroThroughSteps(String kind) {
        Model m = model();
        Function<List<Parameter>, Optimizer> make = switch (kind) {
            case "sgd-momentum" -> ps -> new Sgd(be, ps, 0.9f, false, 1e-3f);
            case "sgd-nesterov" -> ps -> new Sgd(be, ps, 0.9f, true, 1e-3f);
            case "adam" -> ps -> Adam.adam(be, ps, 1e-3f);
            default -> ps -> Adam.adamW(be, ps, 1e-2f);
        };
        try (Optimizer opt = make.apply(m.parameters())) {
            // a few dense steps first, so the optimizer state is non-zero everywhere
            for (int i = 0; i < 3; i++) trainStep(m, opt);
            MagnitudePruner pruner = new MagnitudePruner(be);
            pruner.update(kernels(m), 0.5, Scope.LAYER);
            for (int step = 0; step < 5; step++) {
                trainStep(m, opt);
                for (int i = 0; i < opt.parameters().size(); i++) {
                    Parameter p = opt.parameters().get(i);
                    if (p.mask() == null) continue;
                    byte[] mask = be.downloadBytes(p.mask());
                    float[] w = be.download(p.value());
                    List<float[]> st = state(opt, i).stream().map(be::download).toList();
                    int kept = 0;
                    for (int j = 0; j < mask.length; j++) {
                        if (mask[j] == 0) {
                            assertEquals(0f, w[j], kind + ": " + p.name() + "[" + j + "] is masked but not zero after step " + step);
                            for (float[] s : st) assertEquals(0f, s[j], kind + ": optimizer state of masked " + p.name() + "[" + j + "]");
                        } else if (w[j] != 0f) kept++;
                    }
                    assertTrue(kept > 0, "the kept weights should still train");
                }
            }
        }
    }

    @Test void removingThePruningKeepsOutputsIdentical() {
        Model m = model();
        new MagnitudePruner(be).update(kernels(m), 0.7, Scope.GLOBAL);
        try (Optimizer opt = new Sgd(be, m.parameters(), 0.9f, false, 0f)) {
            trainStep(m, opt);
        }
        float[] before = forward(m);
        for (Parameter p : kernels(m)) p.setMask(null);
        float[] after = forward(m);
        assertArrayEquals(before, after);
        // and the zeros are still there: the masks were folded into the weights
        long zeros = 0, size = 0;
        for (Parameter p : kernels(m)) {
            float[] w = be.download(p.value());
            size += w.length;
            zeros += Arrays.stream(toDoubles(w)).filter(v -> v == 0).count();
        }
        assertEquals(Math.round(0.7 * size), zeros);
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
