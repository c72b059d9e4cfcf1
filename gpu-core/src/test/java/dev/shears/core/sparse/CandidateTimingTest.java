package dev.shears.core.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The planner's per-pass timing policy, on scripted timings and a fake clock (no real timing). */
class CandidateTimingTest {

    /** A round timer answering {@code ms[candidate][round]} and recording what it was asked. */
    private static final class Scripted implements CandidateTiming.RoundTimer {
        final double[][] ms;
        final List<String> asked = new ArrayList<>();

        Scripted(double[][] ms) { this.ms = ms; }

        @Override public double medianMs(int candidate, int round) {
            asked.add(candidate + "@" + round);
            return ms[candidate][round];
        }
    }

    @Test
    void aCandidateMoreThanTwiceTheBestSkipsTheLaterRoundsAndDenseNeverDoes() {
        // dense 1.0, csr 0.4 (the best), blocked-ell 0.9 (2.25x the best: skipped), 2:4 0.7 (1.75x: kept)
        Scripted t = new Scripted(new double[][] {{1.0, 1.1, 0.95}, {0.4, 0.45, 0.42}, {0.9, 0.1, 0.1}, {0.7, 0.6, 0.65}});
        double[] best = CandidateTiming.bestOfRounds(4, 3, t);
        assertEquals(List.of("0@0", "1@0", "2@0", "3@0", "0@1", "1@1", "3@1", "0@2", "1@2", "3@2"), t.asked);
        assertArrayEquals(new double[] {0.95, 0.4, 0.9, 0.6}, best);
    }

    @Test
    void denseIsTimedInEveryRoundEvenWhenFarSlower() {
        Scripted t = new Scripted(new double[][] {{10, 9, 8}, {1, 1, 1}});
        assertArrayEquals(new double[] {8, 1}, CandidateTiming.bestOfRounds(2, 3, t));
        assertEquals(6, t.asked.size());
    }

    @Test
    void aCandidateThatCatchesUpInALaterRoundIsNotSkippedAfterIt() {
        // csr is cold in round 0 (1.9x dense: within 2x, kept) and fast from round 1; 2:4 is 2.1x dense in round 0: skipped
        // from round 1 on, though it would have been fastest (the rule trusts round 0 that far: it is a settled pass's)
        Scripted t = new Scripted(new double[][] {{1.0, 1.0, 1.0}, {1.9, 0.3, 0.3}, {2.1, 0.2, 0.2}});
        double[] best = CandidateTiming.bestOfRounds(3, 3, t);
        assertEquals(List.of("0@0", "1@0", "2@0", "0@1", "1@1", "0@2", "1@2"), t.asked);
        assertArrayEquals(new double[] {1.0, 0.3, 2.1}, best);
    }

    @Test
    void oneRoundTimesEveryCandidateOnce() {
        Scripted t = new Scripted(new double[][] {{1}, {5}, {0.1}});
        assertArrayEquals(new double[] {1, 5, 0.1}, CandidateTiming.bestOfRounds(3, 1, t));
        assertEquals(List.of("0@0", "1@0", "2@0"), t.asked);
    }

    /** A clock that moves {@code perRunNanos} each time the timed run runs. */
    private static final class FakeClock {
        long now;
        int runs;
        final long perRunNanos;

        FakeClock(long perRunNanos) { this.perRunNanos = perRunNanos; }

        void run() {
            runs++;
            now += perRunNanos;
        }
    }

    @Test
    void aCheapProductStopsAfterEnoughRunsPerPhaseInsteadOfFillingItsTime() {
        // 1 us a run, 13.3 ms a phase: before, 1000 untimed and 1000 timed runs; now 100 and 100
        FakeClock c = new FakeClock(1_000);
        double ms = CandidateTiming.medianMillis(c::run, 3, 7, 13.3, () -> c.now);
        assertEquals(2 * CandidateTiming.ENOUGH_RUNS, c.runs);
        assertEquals(0.001, ms, 1e-12);
    }

    @Test
    void anExpensiveProductStillRunsForItsTimeWhenThatComesFirst() {
        // 1 ms a run: 14 untimed runs reach 13.3 ms (the check comes before each run), then 14 timed
        FakeClock c = new FakeClock(1_000_000);
        CandidateTiming.medianMillis(c::run, 3, 7, 13.3, () -> c.now);
        assertEquals(28, c.runs);
    }

    @Test
    void theMinimumCountsHoldWhateverTheTime() {
        // 100 ms a run: the phases' time is up after one run, but warmup 3 and repeats 7 still run
        FakeClock c = new FakeClock(100_000_000);
        CandidateTiming.medianMillis(c::run, 3, 7, 13.3, () -> c.now);
        assertEquals(10, c.runs);
        // no time at all (quick options): exactly the counts
        FakeClock q = new FakeClock(1_000);
        CandidateTiming.medianMillis(q::run, 1, 3, 0, () -> q.now);
        assertEquals(4, q.runs);
    }

    @Test
    void theMedianIsOfTheTimedRunsOnly() {
        // the k-th run (from 1) takes k ms
        long[] now = {0};
        int[] k = {0};
        double ms = CandidateTiming.medianMillis(() -> now[0] += 1_000_000L * ++k[0], 2, 5, 0, () -> now[0]);
        // untimed runs 1, 2 ms; timed runs 3, 4, 5, 6, 7 ms: median 5
        assertEquals(5.0, ms, 1e-9);
    }
}
