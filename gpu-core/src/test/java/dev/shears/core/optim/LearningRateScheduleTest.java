package dev.shears.core.optim;

import dev.shears.core.optim.LearningRateSchedule.*;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LearningRateScheduleTest {
    private static final double EPS = 1e-12;

    @Test void constant() {
        Constant c = new Constant(0.05);
        assertEquals(0.05, c.at(0), EPS);
        assertEquals(0.05, c.at(123.4), EPS);
    }

    @Test void stepDecayDropsAtEachBoundary() {
        StepDecay s = new StepDecay(0.1, 10, 0.5);
        assertEquals(0.1, s.at(0), EPS);
        assertEquals(0.1, s.at(9.999), EPS);
        assertEquals(0.05, s.at(10), EPS);
        assertEquals(0.025, s.at(25.5), EPS);
    }

    @Test void multiStepCountsMilestonesPassed() {
        MultiStep s = new MultiStep(1.0, List.of(3.0, 7.5), 0.1);
        assertEquals(1.0, s.at(2.99), EPS);
        assertEquals(0.1, s.at(3), EPS);
        assertEquals(0.1, s.at(7.49), EPS);
        assertEquals(0.01, s.at(7.5), 1e-15);
    }

    @Test void exponentialIsContinuousInTheFractionalEpoch() {
        Exponential e = new Exponential(0.2, 0.9);
        assertEquals(0.2, e.at(0), EPS);
        assertEquals(0.2 * 0.81, e.at(2), EPS);
        assertEquals(0.2 * Math.pow(0.9, 2.5), e.at(2.5), EPS);
    }

    @Test void cosineGoldenValues() {
        Cosine c = new Cosine(0.1, 0.001, 20);
        assertEquals(0.1, c.at(0), EPS);
        // half way: cos(pi/2) = 0, so the mid-point of initial and minimum
        assertEquals((0.1 + 0.001) / 2, c.at(10), EPS);
        // a quarter: (1 + cos(pi/4))/2 = 0.853553390593...
        assertEquals(0.001 + 0.099 * 0.8535533905932737, c.at(5), EPS);
        assertEquals(0.001, c.at(20), EPS);
        assertEquals(0.001, c.at(35), EPS);
    }

    @Test void linearWarmupThenHolds() {
        Linear l = new Linear(0, 0.1, 2);
        assertEquals(0, l.at(0), EPS);
        assertEquals(0.025, l.at(0.5), EPS);
        assertEquals(0.1, l.at(2), EPS);
        assertEquals(0.1, l.at(5), EPS);
    }

    @Test void piecewiseHoldsBetweenAndAfterSegments() {
        Piecewise p = new Piecewise(List.of(
                new Segment(0, 2, new Linear(0.01, 0.1, 2)),
                new Segment(2, 10, new Constant(0.1)),
                new Segment(12, 20, new Cosine(0.1, 0.0, 8))));
        assertEquals(0.01, p.at(0), EPS);
        assertEquals(0.055, p.at(1), EPS);
        assertEquals(0.1, p.at(5), EPS);
        assertEquals(0.1, p.at(11), EPS);                 // gap: held
        assertEquals(0.05, p.at(16), EPS);                // cosine half way
        assertEquals(0.0, p.at(25), EPS);                 // after the end: held at the last value
    }

    @Test void piecewiseBeforeFirstSegmentUsesItsStartingValue() {
        Piecewise p = new Piecewise(List.of(new Segment(3, 5, new Constant(0.3))));
        assertEquals(0.3, p.at(0), EPS);
    }

    @Test void invalidArgumentsNameTheField() {
        var e = assertThrows(IllegalArgumentException.class, () -> new StepDecay(0.1, 0, 0.5));
        assertTrue(e.getMessage().contains("stepEpochs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Exponential(0.1, 1.5));
        assertTrue(e.getMessage().contains("gamma 1.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Constant(Double.NaN));
        assertTrue(e.getMessage().contains("lr NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MultiStep(0.1, List.of(5.0, 3.0), 0.1));
        assertTrue(e.getMessage().contains("strictly increasing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Piecewise(List.of(
                new Segment(0, 5, new Constant(0.1)), new Segment(4, 6, new Constant(0.1)))));
        assertTrue(e.getMessage().contains("overlap"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Segment(5, 5, new Constant(0.1)));
        assertTrue(e.getMessage().contains("endEpoch 5.0"), e.getMessage());
    }
}
