package dev.shears.core.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The CPU side of the shared CUDA-event timing loop (the loop itself runs in the emulator and GPU tests of the planner and the benchmarks). */
class EventTimingTest {

    @Test
    void theMedianIsTheMiddleSortedTimeAndTheInputIsLeftAlone() {
        double[] odd = {5, 1, 4, 2, 3};
        assertEquals(3, EventTiming.median(odd));
        assertArrayEquals(new double[] {5, 1, 4, 2, 3}, odd);
        assertEquals(3, EventTiming.median(new double[] {4, 1, 3, 2}), "even count: the upper of the two middle times, as reported so far");
        assertEquals(7, EventTiming.median(new double[] {7}));
        assertThrows(IllegalArgumentException.class, () -> EventTiming.median(new double[0]));
    }

    @Test
    void noRepetitionsIsRefusedBeforeAnyWorkRuns() {
        boolean[] ran = {false};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EventTiming.medianMillis(null, 3, 0, r -> ran[0] = true, () -> ran[0] = true));
        assertTrue(e.getMessage().contains("at least 1"), e.getMessage());
        assertFalse(ran[0]);
    }
}
