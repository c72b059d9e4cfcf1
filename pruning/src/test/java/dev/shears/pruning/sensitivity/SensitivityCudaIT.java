package dev.shears.pruning.sensitivity;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.GpuTestSupport;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.TestModels;
import dev.shears.pruning.recipe.BlockStructure;
import dev.shears.pruning.recipe.ChannelStructure;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.ParamSelection;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.train.GmpTrainer;
import dev.shears.pruning.train.ModelSnapshot;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The analysis on the CUDA backend: thresholds, masks and evaluation on the device, and the
 * weights and masks restored on the device bit for bit. A model trained on the CPU is copied to
 * the GPU, and both backends measure it: the sparsities reached are the same (the thresholds are
 * exact on both), and the accuracies agree to within {@link #SAMPLE_TOLERANCE} test samples
 * (cuBLAS and the CPU GEMM round differently, which may flip a sample on the decision boundary).
 */
class SensitivityCudaIT {
    private static final int SAMPLE_TOLERANCE = 2;

    @Test void cudaMeasuresWhatTheCpuMeasuresAndRestoresTheModelExactly() {
        GpuTestSupport.assumeCuda();
        Split fm = DataSources.bundledFashionMnist();
        Dataset test = fm.test().head(200).withSampleShape(Shape.of(784));
        Recipe dense = RecipeParser.parse("""
                epochs: 1
                batchSize: 64
                optimizer: {type: sgd, momentum: 0.9}
                learningRate:
                  - {type: constant, lr: 0.05}
                """, "test recipe", "dense-1");
        try (CpuBackend cpu = CpuBackend.create(); CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model onCpu = TestModels.mlp(784, 64, 32, 10, false).bind(cpu, 3);
            new GmpTrainer(onCpu, fm.train().head(2000).withSampleShape(Shape.of(784)), test, dense, 1).run();
            Model onGpu = TestModels.mlp(784, 64, 32, 10, false).bind(gpu, 3);
            ModelSnapshot.take(onCpu, 0).restore(onGpu);
            // channels and blocks build their masks on the host and copy them into the device masks: restored on the device too
            for (SensitivityPlan plan : List.of(SensitivityPlan.unstructured(List.of(0.9)), SensitivityPlan.nm(NmStructure.TWO_FOUR),
                    SensitivityPlan.structured(ChannelStructure.CHANNELS, List.of(0.5)), SensitivityPlan.structured(new BlockStructure(4, 4), List.of(0.5)))) {
                List<Object> before = state(gpu, onGpu);
                SensitivityResult g = new SensitivityAnalysis(onGpu, test, 128).run(ParamSelection.ALL_PRUNABLE, plan, SensitivityListener.NONE);
                List<Object> after = state(gpu, onGpu);
                assertFalse(g.layers().isEmpty(), plan + " measured something");
                assertEquals(before.size(), after.size());
                for (int i = 0; i < before.size(); i++) {
                    if (before.get(i) instanceof int[] a) assertArrayEquals(a, (int[]) after.get(i), "weights of parameter #" + i / 2);
                    else assertEquals(before.get(i), after.get(i), "mask of parameter #" + i / 2 + " (none before, none after)");
                }
                SensitivityResult c = new SensitivityAnalysis(onCpu, test, 128).run(ParamSelection.ALL_PRUNABLE, plan, SensitivityListener.NONE);
                assertEquals(c.baselineAccuracy(), g.baselineAccuracy(), SAMPLE_TOLERANCE / 200.0 + 1e-12);
                for (int l = 0; l < c.layers().size(); l++)
                    for (int p = 0; p < c.layers().get(l).points().size(); p++) {
                        SensitivityPoint cp = c.layers().get(l).points().get(p), gp = g.layers().get(l).points().get(p);
                        assertEquals(cp.sparsity(), gp.sparsity(), c.layers().get(l).name() + " at " + cp.target());
                        assertEquals(cp.accuracy(), gp.accuracy(), SAMPLE_TOLERANCE / 200.0 + 1e-12, c.layers().get(l).name() + " at " + cp.target());
                    }
            }
        }
    }

    /** Weights as raw bits and masks (null when none), in parameter order. */
    private static List<Object> state(Backend be, Model m) {
        List<Object> s = new ArrayList<>();
        for (Parameter p : m.parameters()) {
            float[] w = be.download(p.value());
            int[] bits = new int[w.length];
            for (int i = 0; i < w.length; i++) bits[i] = Float.floatToRawIntBits(w[i]);
            s.add(bits);
            s.add(p.mask() == null ? null : java.util.HexFormat.of().formatHex(be.downloadBytes(p.mask())));
        }
        return s;
    }
}
