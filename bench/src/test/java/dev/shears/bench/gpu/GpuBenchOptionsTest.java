package dev.shears.bench.gpu;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GpuBenchOptionsTest {

    @Test
    void parsesEveryOption() {
        GpuBench.Options o = GpuBench.Options.parse("--out", "a.json", "--shapes", "s.json", "--reps", "5", "--max-n", "1000", "--quick");
        assertEquals(Path.of("a.json"), o.out());
        assertEquals(Path.of("s.json"), o.shapes());
        assertEquals(5, o.reps());
        assertEquals(1000, o.maxN());
        assertTrue(o.quick());
    }

    @Test
    void theSmallSizeOptionsReplaceTheDefaultsWhichDependOnQuick() {
        GpuBench.Options full = GpuBench.Options.parse("--out", "a.json");
        assertEquals(List.of(1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L), full.singleSizes());
        assertEquals(GpuBench.MODELS, full.thresholdModels());
        assertEquals(100_000_000L, full.updateCount());
        assertEquals(1024, full.copyMib());
        assertEquals(256, full.flushMib());
        GpuBench.Options quick = GpuBench.Options.parse("--out", "a.json", "--quick");
        assertEquals(List.of(1_000_000L, 10_000_000L), quick.singleSizes());
        assertEquals(List.of("resnet50"), quick.thresholdModels());
        assertEquals(10_000_000L, quick.updateCount());
        assertEquals(List.of(1_000_000L, 10_000_000L), GpuBench.Options.parse("--out", "a", "--max-n", "1e7").singleSizes(), "1e7 as the peers write it");
        GpuBench.Options small = GpuBench.Options.parse("--out", "a.json", "--quick", "--sizes", "1000,5e7", "--models", "dense3x64,vgg19",
                "--update-n", "4096", "--copy-mib", "1", "--flush-mib", "2");
        assertEquals(List.of(1000L, 50_000_000L), small.singleSizes(), "given sizes are not cut by --quick");
        assertEquals(List.of("dense3x64", "vgg19"), small.thresholdModels());
        assertEquals(GpuBench.MODELS, GpuBench.Options.parse("--out", "a", "--quick", "--models", "resnet50,vgg19,dense32x4096").thresholdModels(),
                "the default models, given, are not cut by --quick");
        assertEquals(4096, small.updateCount());
        assertEquals(1, small.copyMib());
        assertEquals(2, small.flushMib());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GpuBench.Options.parse("--out", "a", "--models", "alexnet"))
                .getMessage().contains("alexnet"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GpuBench.Options.parse("--out", "a", "--sizes", "1.5"))
                .getMessage().contains("'1.5' is not an integer"));
        assertThrows(IllegalArgumentException.class, () -> GpuBench.Options.parse("--out", "a", "--flush-mib", "0"));
    }

    @Test
    void rejectsMissingOutputUnknownFlagsAndBadValues() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GpuBench.Options.parse("--reps", "3"))
                .getMessage().contains("--out"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GpuBench.Options.parse("--out", "x", "--fast"))
                .getMessage().contains("unknown argument --fast"));
        assertThrows(IllegalArgumentException.class, () -> GpuBench.Options.parse("--out", "x", "--reps", "0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GpuBench.Options.parse("--out"))
                .getMessage().contains("needs a value"));
    }
}
