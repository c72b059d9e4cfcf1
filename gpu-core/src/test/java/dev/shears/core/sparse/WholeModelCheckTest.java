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
        WholeModelCheck c = WholeModelCheck.measure(() -> runs[0]++, () -> runs[1]++, scripted(asked, 12, 9, 10, 11, 11, 9.4), 3, 0.05, null);
        assertEquals(new WholeModelCheck(10, 9, true), c);
        assertEquals(List.of(WholeModelCheck.Path.DENSE, WholeModelCheck.Path.PLANNED, WholeModelCheck.Path.DENSE,
                WholeModelCheck.Path.PLANNED, WholeModelCheck.Path.DENSE, WholeModelCheck.Path.PLANNED), asked);
        assertEquals(3, runs[0], "the timer ran the dense forward it was given");
        assertEquals(3, runs[1], "and the planned one");

        // 9.6 is faster than 10, but not by 5%: dense everywhere
        WholeModelCheck close = WholeModelCheck.measure(() -> {}, () -> {}, scripted(new ArrayList<>(), 10, 9.6), 1, 0.05, null);
        assertEquals(new WholeModelCheck(10, 9.6, false), close);
        // without a margin the same times keep the plan
        assertTrue(WholeModelCheck.measure(() -> {}, () -> {}, scripted(new ArrayList<>(), 10, 9.6), 1, 0, null).kept());
    }

    /** A plan whose every layer is dense runs the dense products: timed once, that time standing for both paths. */
    @Test void withoutAPlannedPathOnlyDenseIsTimed() {
        List<WholeModelCheck.Path> asked = new ArrayList<>();
        int[] runs = new int[1];
        WholeModelCheck c = WholeModelCheck.measure(() -> runs[0]++, null, scripted(asked, 12, 10, 11), 3, 0.05, null);
        assertEquals(new WholeModelCheck(10, 10, false), c);
        assertEquals(List.of(WholeModelCheck.Path.DENSE, WholeModelCheck.Path.DENSE, WholeModelCheck.Path.DENSE), asked);
        assertEquals(3, runs[0]);
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
        assertThrows(IllegalArgumentException.class, () -> WholeModelCheck.measure(() -> {}, () -> {}, (p, r) -> 1, 0, 0.05, null));
        WholeModelCheck none = WholeModelCheck.nothingSparse();
        assertTrue(none.kept());
        assertTrue(Double.isNaN(none.denseMs()) && Double.isNaN(none.plannedMs()));
    }

    /**
     * A dense forward cold for its first timings (a GPU's clocks ramping up, a JIT compiling the
     * layers' shapes: 40, 20, 12 ms), then a steady 10 ms; the plan a steady 9.8 ms.
     */
    private static WholeModelCheck.Timer coldDenseThenWarm() {
        double[] cold = {40, 20, 12};
        return new WholeModelCheck.Timer() {
            int denseCalls;
            @Override public double medianMs(WholeModelCheck.Path path, Runnable forward) {
                forward.run();
                return path == WholeModelCheck.Path.PLANNED ? 9.8 : denseCalls < cold.length ? cold[denseCalls++] : 10;
            }
        };
    }

    /**
     * The plan (9.8 ms) is within the 5% margin of the warm dense forward (10 ms). Best-of-three
     * rounds alone keep it: the three rounds all fall in the dense forward's cold start (best
     * 12 ms). Settled first, the rounds that decide are warm and the plan goes back to dense.
     */
    @Test void settlingFirstKeepsAColdDenseForwardFromDecidingTheCheck() {
        assertEquals(new WholeModelCheck(12, 9.8, true), WholeModelCheck.measure(() -> {}, () -> {}, coldDenseThenWarm(), 3, 0.05, null),
                "judged cold: kept");
        int[] runs = new int[2];
        Settle settle = new Settle(() -> 0L, 1_000, 10_000);
        WholeModelCheck settled = WholeModelCheck.measure(() -> runs[0]++, () -> runs[1]++, coldDenseThenWarm(), 3, 0.05, settle);
        assertEquals(new WholeModelCheck(10, 9.8, false), settled, "judged warm: within the margin, reverted");
        // settle: dense 40, 20 (moved), 12 (moved), 10 (stable once), 10 (twice): 5 passes, the last three of them the
        // three rounds (best 10), none more
        assertEquals(5, runs[0], "dense forwards: 5 settle passes, the last three the rounds");
        assertEquals(5, runs[1], "planned forwards alike, one per dense forward");
    }

    /**
     * A settle cut short by its cap (here after its second pass) gives the rounds it ran after
     * the cold first pass, and the rest are timed: the check still decides on three rounds.
     */
    @Test void aSettleCutShortGivesWhatItRanAndTheRestAreTimed() {
        int[] runs = new int[2];
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
        Settle capped = new Settle(() -> now.addAndGet(100), 150, 10_000);
        WholeModelCheck check = WholeModelCheck.measure(() -> runs[0]++, () -> runs[1]++, coldDenseThenWarm(), 3, 0.05, capped);
        // settle: 40 (baseline), 20 (cap reached): one round (20); two rounds more: 12, 10
        assertEquals(new WholeModelCheck(10, 9.8, false), check);
        assertEquals(4, runs[0], "2 settle passes and 2 rounds more");
    }

    /** A settle whose budget is spent times the check as it comes (the rounds alone). */
    @Test void aSpentSettleBudgetLeavesTheRoundsAlone() {
        int[] runs = new int[2];
        Settle spent = new Settle(() -> 0L, 1_000, 0);
        WholeModelCheck check = WholeModelCheck.measure(() -> runs[0]++, () -> runs[1]++, coldDenseThenWarm(), 3, 0.05, spent);
        assertEquals(new WholeModelCheck(12, 9.8, true), check);
        assertEquals(3, runs[0]);
    }
}
