package dev.shears.cli;

import dev.shears.cli.report.RunReport;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.GpuTestSupport;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Dense;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The run report's thinning section for a model on the CUDA backend: the thinned model is built
 * there too (thinning reads the weights back and uploads the smaller ones to the model's backend),
 * both are timed with CUDA events, and they classify the test images alike.
 */
class CudaThinningReportIT {

    @Test void aModelOnTheCudaBackendIsThinnedAndTimedThere() {
        GpuTestSupport.assumeCuda();
        Dataset test = DataSources.bundledFashionMnist().test().head(100);
        try (CpuBackend cpu = new CpuBackend(1); CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", test.sampleShape(), 10).bind(cpu, 3);
            Dense fc1 = (Dense) m.nodes().stream().map(Model.Node::layer).filter(l -> l instanceof Dense).findFirst().orElseThrow();
            Parameter k = fc1.kernel();
            float[] w = cpu.download(k.value()).clone();
            int out = k.shape().dim(1);
            for (int i = 0; i < w.length; i++) if (i % out < 120) w[i] = 0; // fc1: 300 -> 180 units
            k.setValue(cpu.upload(w, k.shape()));
            m.bind(gpu, 0); // moved with its values
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            RunReport.Thinning t = ThinningReport.measure(m, test, new int[] {1, 4},
                    new Progress(new PrintStream(err, true, StandardCharsets.UTF_8), false), false);
            String progress = err.toString(StandardCharsets.UTF_8);
            assertNotNull(t, progress);
            assertNull(t.note(), t.note() + "\n" + progress);
            assertEquals("cuda", t.backend());
            assertEquals(gpu.name(), t.device());
            assertTrue(progress.contains("on the GPU"), progress);
            assertEquals(120, t.channelsRemoved());
            assertEquals(784 * 180 + 180 + 180 * 100 + 100 + 100 * 10 + 10, t.parametersAfter());
            assertEquals(2, t.batches().size());
            for (RunReport.ThinningBatch b : t.batches()) {
                assertEquals(100, b.samples());
                assertEquals(b.samples(), b.samePredictions(), b.toString());
                assertTrue(b.maxAbsDifference() < 1e-3, b.toString());
                assertTrue(b.prunedMs() > 0 && b.thinnedMs() > 0, b.toString());
            }
        }
    }
}
