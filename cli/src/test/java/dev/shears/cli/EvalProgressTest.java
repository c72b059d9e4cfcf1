package dev.shears.cli;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/**
 * eval draws a bar over the test samples (it ran silent for 13 s on a CNN) without changing
 * a bit of what it reports: the counted forward path scores exactly as Evaluator's own.
 */
class EvalProgressTest {
    @Test void countsEverySampleAndScoresExactlyAsTheEvaluator() {
        Dataset test = DataSources.bundledFashionMnist().test().head(1000);
        try (CpuBackend be = CpuBackend.create()) {
            Model m = Architectures.create("lenet-300-100", test.sampleShape(), test.classes()).bind(be, 3);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Progress bar = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, false); // a log file: one line, then every 5 s
            EvalProgress progress = new EvalProgress(bar, test.count());
            Evaluator.Result counted = progress.evaluateDense(m, test, 300); // batches 300, 300, 300, 100
            assertEquals(Evaluator.evaluate(m, test, 300), counted, "the same loss and accuracy, bit for bit");
            assertEquals(1000, progress.done());
            String log = bytes.toString(StandardCharsets.UTF_8);
            assertTrue(log.startsWith("eval [") && log.contains("] 300/1000 samples"), log);

            SparseModel sm = SparseModel.plan(m, 300, new SparsePlanner());
            EvalProgress sparse = new EvalProgress(new Progress(new PrintStream(new ByteArrayOutputStream()), false, false), test.count());
            assertEquals(sm.evaluate(test, 300), Evaluator.evaluateUntil(m, test, 300, sparse.counting(sm::forwardUntil)));
            assertEquals(1000, sparse.done());
        }
    }
}
