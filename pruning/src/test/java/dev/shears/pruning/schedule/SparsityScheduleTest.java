package dev.shears.pruning.schedule;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Golden values worked out by hand from Zhu & Gupta's eq. 1,
 * s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3, with s_i = 0.05, s_f = 0.9, t0 = 100, n dt = 100.
 */
class SparsityScheduleTest {
    private static final double EPS = 1e-12;
    private final SparsitySchedule cubic = new SparsitySchedule(0.05, 0.9, 100, 200, 10, SparsityCurve.CUBIC);

    @Test void cubicGoldenValuesAtUpdateSteps() {
        assertEquals(0.05, cubic.target(100), EPS);        // p = 0
        assertEquals(0.28035, cubic.target(110), EPS);     // p = 0.1: 0.9 - 0.85 * 0.729
        assertEquals(0.79375, cubic.target(150), EPS);     // p = 0.5: 0.9 - 0.85 * 0.125
        assertEquals(0.89915, cubic.target(190), EPS);     // p = 0.9: 0.9 - 0.85 * 0.001
        assertEquals(0.9, cubic.target(200), EPS);         // p = 1
    }

    @Test void targetHoldsBetweenUpdatesAndIsZeroBeforeTheStart() {
        assertEquals(0, cubic.target(0), EPS);
        assertEquals(0, cubic.target(99), EPS);
        assertEquals(0.79375, cubic.target(159), EPS);
        assertEquals(0.9, cubic.target(10_000), EPS);
    }

    @Test void updateStepsAreEveryDtAndTheEnd() {
        List<Long> steps = new ArrayList<>();
        for (long t = 0; t < 400; t++) if (cubic.isUpdateStep(t)) steps.add(t);
        assertEquals(List.of(100L, 110L, 120L, 130L, 140L, 150L, 160L, 170L, 180L, 190L, 200L), steps);
        assertEquals(11, cubic.updateCount());
    }

    @Test void aWindowThatIsNotAMultipleOfDtStillEndsAtEndStep() {
        SparsitySchedule s = new SparsitySchedule(0.0, 0.8, 0, 25, 10, SparsityCurve.CUBIC);
        List<Long> steps = new ArrayList<>();
        for (long t = 0; t < 100; t++) if (s.isUpdateStep(t)) steps.add(t);
        assertEquals(List.of(0L, 10L, 20L, 25L), steps);
        assertEquals(4, s.updateCount());
        // t = 20: p = 0.8, (1 - p)^3 = 0.008: 0.8 - 0.8 * 0.008
        assertEquals(0.7936, s.target(20), EPS);
        assertEquals(0.8, s.target(25), EPS);
    }

    @Test void linearGoldenValues() {
        SparsitySchedule s = new SparsitySchedule(0.0, 0.8, 0, 100, 25, SparsityCurve.LINEAR);
        assertEquals(0.0, s.target(0), EPS);
        assertEquals(0.2, s.target(25), EPS);
        assertEquals(0.6, s.target(99), EPS);
        assertEquals(0.8, s.target(100), EPS);
    }

    @Test void oneShotWindow() {
        SparsitySchedule s = new SparsitySchedule(0.5, 0.5, 7, 7, 1, SparsityCurve.LINEAR);
        assertFalse(s.isUpdateStep(6));
        assertTrue(s.isUpdateStep(7));
        assertFalse(s.isUpdateStep(8));
        assertEquals(1, s.updateCount());
        assertEquals(0.5, s.target(7), EPS);
    }

    @Test void targetsNeverDecrease() {
        double prev = 0;
        for (long t = 0; t < 300; t++) {
            double s = cubic.target(t);
            assertTrue(s >= prev, "target fell at step " + t);
            prev = s;
        }
    }

    @Test void rejectsImpossibleWindows() {
        assertThrows(IllegalArgumentException.class, () -> new SparsitySchedule(0.5, 0.4, 0, 10, 1, SparsityCurve.CUBIC));
        assertThrows(IllegalArgumentException.class, () -> new SparsitySchedule(0.1, 1.0, 0, 10, 1, SparsityCurve.CUBIC));
        assertThrows(IllegalArgumentException.class, () -> new SparsitySchedule(0.1, 0.5, 10, 5, 1, SparsityCurve.CUBIC));
        assertThrows(IllegalArgumentException.class, () -> new SparsitySchedule(0.1, 0.5, 0, 10, 0, SparsityCurve.CUBIC));
    }
}
