package dev.shears.bench.gpu;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

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
