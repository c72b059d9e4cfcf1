package dev.shears.core.nn;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * ClassTally on the CPU: predictions by Backend.argMaxRows (the first maximum, NaN never winning),
 * so per-class right answers add up to countCorrect's; a buffer of more rows than the batch is
 * read for its first n; a batch past the labels is refused.
 */
class ClassTallyTest {
    static CpuBackend cpu;

    @BeforeAll static void setUp() { cpu = new CpuBackend(1); }
    @AfterAll static void tearDown() { cpu.close(); }

    @Test
    void predictionsFollowCountCorrectsRule() {
        float nan = Float.NaN;
        float[] logits = {
                1f, 3f, 3f,     // tie: class 1
                nan, 0f, 2f,    // NaN first: class 2 (a scan from class 0 with > would keep 0)
                nan, nan, nan,  // only NaN: class 0
                5f, -1f, 0f,    // class 0
                0f, 0f, 9f,     // beyond n = 4: not read
        };
        int[] labels = {1, 2, 0, 2};
        ClassTally t = new ClassTally(labels);
        t.batch(cpu, cpu.upload(logits, Shape.of(5, 3)), 4);
        ClassCounts c = t.counts();
        assertArrayEquals(new long[]{1, 1, 2}, c.total());
        assertArrayEquals(new long[]{1, 1, 1}, c.correct());
        int right = cpu.countCorrect(cpu.upload(java.util.Arrays.copyOf(logits, 12), Shape.of(4, 3)), cpu.uploadInts(labels, Shape.of(4)), 4, 3);
        assertEquals(right, c.right(), "per-class right answers add up to countCorrect's");
        assertEquals(4, t.samples());
        var e = assertThrows(IllegalStateException.class, () -> t.batch(cpu, cpu.upload(logits, Shape.of(5, 3)), 1));
        assertTrue(e.getMessage().contains("a batch of 1 after 4 samples, but the data has 4"), e.getMessage());
    }
}
