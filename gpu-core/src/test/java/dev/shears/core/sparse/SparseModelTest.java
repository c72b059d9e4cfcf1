package dev.shears.core.sparse;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Planned sparse inference gives the dense model's outputs on pruned LeNet-300-100 and LeNet-5. */
class SparseModelTest {

    private static void checkSame(String arch, double sparsity, int batch) {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create(arch, Shape.of(1, 28, 28), 10).bind(be, 7);
        KernelPruning.pruneKernels(m, sparsity);
        SplittableRandom rng = new SplittableRandom(9);
        float[] xs = new float[batch * 784];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextDouble();
        Tensor x = be.upload(xs, Shape.of(batch, 1, 28, 28));
        float[] want = be.download(m.forward(ExecContext.inference(be), x));
        SparseModel sm = SparseModel.plan(m, batch, new SparsePlanner(SparsePlanner.Options.quick()));
        float[] got = be.download(sm.forward(x));
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), arch + " output " + i + " (plans " + sm.plans() + ")");
        for (SparseModel.LayerPlan p : sm.plans()) {
            assertTrue(p.chosenMs() <= p.denseMs(), p + " slower than dense");
            assertEquals(sparsity, p.sparsity(), 0.02, p.layer());
        }
    }

    @Test void lenet300100() {
        checkSame("lenet-300-100", 0.9, 16);
        checkSame("lenet-300-100", 0.9, 1);
    }

    @Test void lenet5ConvolutionsAsGemm() {
        checkSame("lenet-5", 0.8, 4);
    }

    @Test void plansCoverDenseAndConvLayers() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-5", Shape.of(1, 28, 28), 10).bind(be, 1);
        SparseModel sm = SparseModel.plan(m, 2, new SparsePlanner(SparsePlanner.Options.quick()));
        assertEquals(java.util.List.of("conv1", "conv2", "fc1", "fc2", "fc3"), sm.plans().stream().map(SparseModel.LayerPlan::layer).toList());
        SparseModel.LayerPlan conv2 = sm.plans().get(1);
        assertEquals(16, conv2.rows());
        assertEquals(6 * 25, conv2.cols());
        assertEquals(10 * 10, conv2.n());
    }

    /** The progress listener hears every planned layer once, in plan order, counted 1..n of n, with the format the plan chose. */
    @Test void progressIsToldEachLayerAsItIsPlanned() {
        CpuBackend be = CpuBackend.create();
        Model m = Architectures.create("lenet-5", Shape.of(1, 28, 28), 10).bind(be, 1);
        KernelPruning.pruneKernels(m, 0.9);
        java.util.List<String> heard = new java.util.ArrayList<>();
        SparseModel sm = SparseModel.plan(m, 2, new SparsePlanner(SparsePlanner.Options.quick()), null,
                (index, total, layer, format) -> heard.add(index + "/" + total + " " + layer + " " + format));
        java.util.List<String> want = new java.util.ArrayList<>();
        for (int i = 0; i < sm.plans().size(); i++)
            want.add((i + 1) + "/5 " + sm.plans().get(i).layer() + " " + sm.plans().get(i).format());
        assertEquals(want, heard);
        assertEquals("5/5 fc3", heard.getLast().substring(0, 7));
    }
}
