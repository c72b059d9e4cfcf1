package dev.shears.core.sparse;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decision the CPU and CUDA sparse models share: interleaved rounds, each path's best round, the margin. */
class WholeModelCheckTest {

    /** A timer answering the given times in order, recording which path it was asked for and running it. */
    private static WholeModelCheck.Timer scripted(List<WholeModelCheck.Path> asked, double... times) {
        Deque<Double> left = new ArrayDeque<>();
        for (double t : times) left.add(t);
        return (path, forward) -> {
            forward.run();
            asked.add(path);
            return left.removeFirst();
        };
    }

    @Test void eachPathKeepsItsBestRoundAndThePlanMustBeatDenseByTheMargin() {
        List<WholeModelCheck.Path> asked = new ArrayList<>();
        int[] runs = new int[2];
        // rounds: dense 12, planned 9; dense 10, planned 11; dense 11, planned 9.4 -> best 10 against 9
        WholeModelCheck c = WholeModelCheck.measure(() -> runs[0]++, () -> runs[1]++, scripted(asked, 12, 9, 10, 11, 11, 9.4), 3, 0.05);
        assertEquals(new WholeModelCheck(10, 9, true), c);
        assertEquals(List.of(WholeModelCheck.Path.DENSE, WholeModelCheck.Path.PLANNED, WholeModelCheck.Path.DENSE,
                WholeModelCheck.Path.PLANNED, WholeModelCheck.Path.DENSE, WholeModelCheck.Path.PLANNED), asked);
        assertEquals(3, runs[0], "the timer ran the dense forward it was given");
        assertEquals(3, runs[1], "and the planned one");

        // 9.6 is faster than 10, but not by 5%: dense everywhere
        WholeModelCheck close = WholeModelCheck.measure(() -> {}, () -> {}, scripted(new ArrayList<>(), 10, 9.6), 1, 0.05);
        assertEquals(new WholeModelCheck(10, 9.6, false), close);
        // without a margin the same times keep the plan
        assertTrue(WholeModelCheck.measure(() -> {}, () -> {}, scripted(new ArrayList<>(), 10, 9.6), 1, 0).kept());
    }

    @Test void theRuleItself() {
        assertTrue(WholeModelCheck.keeps(10, 9.4, 0.05));
        assertFalse(WholeModelCheck.keeps(10, 9.6, 0.05), "faster, but by less than the margin");
        assertFalse(WholeModelCheck.keeps(10, 10, 0));
        assertFalse(WholeModelCheck.keeps(10, 0.001, 1.0), "a margin of 100% keeps nothing");
        assertFalse(WholeModelCheck.keeps(10, Double.NaN, 0.05), "a failed timing never keeps a plan");
        assertFalse(WholeModelCheck.keeps(Double.NaN, 1, 0.05));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WholeModelCheck.keeps(10, 5, -0.1));
        assertTrue(e.getMessage().contains("-0.1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WholeModelCheck.measure(() -> {}, () -> {}, (p, r) -> 1, 0, 0.05));
        WholeModelCheck none = WholeModelCheck.nothingSparse();
        assertTrue(none.kept());
        assertTrue(Double.isNaN(none.denseMs()) && Double.isNaN(none.plannedMs()));
    }
}
