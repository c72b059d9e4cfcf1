package dev.shears.bench;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The benchmark's pruning leaves exactly round(sparsity * size) zeros in every kernel. */
class SparseModelBenchTest {

    @Test
    void pruneZeroesTheRequestedFractionOfEveryKernel() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(be, 3);
        SparseModelBench.prune(m, 0.9);
        for (Parameter p : m.parameters()) {
            if (p.role() != Parameter.Role.KERNEL) continue;
            float[] w = be.download(p.value());
            long zeros = 0;
            for (float v : w) if (v == 0f) zeros++;
            assertEquals(Math.round(0.9 * w.length), zeros, p.name());
        }
    }

    @Test
    void setupPlansThePrunedModelWithTheDenseOutputs() {
        SparseModelBench b = new SparseModelBench();
        b.model = "lenet-300-100";
        b.sparsity = 0.9;
        b.batch = 1;
        b.mode = "planned";
        b.setup(); // throws when the planned model's outputs differ from the dense ones
        assertEquals(1, b.forward().shape().dim(0));
    }
}
