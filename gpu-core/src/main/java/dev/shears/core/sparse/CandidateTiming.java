package dev.shears.core.sparse;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * How the CPU planner ({@link SparsePlanner#timeAll}) times its candidates in one pass, so that
 * the time a layer costs to plan scales with what its product costs.
 *
 * <p>Before, every candidate ran at least {@code minMillis / ROUNDS} (13 ms at the defaults) of
 * untimed and as much of timed runs in each of the three rounds, whatever one run cost: a pruned
 * LeNet-5's fc3 (10x84, 0.018 ms a product) took 740 timed runs a round, and every pass of two
 * candidates took ~160 ms, the same as fc1's at 17x the cost (planning the five layers took
 * 15 s on the shared 2-core machine; bench/results/planning-time-2026-11-22.txt). Two rules:
 * <ul>
 *   <li>{@link #medianMillis}: a phase (untimed, then timed) ends after {@link #ENOUGH_RUNS} runs
 *       even before its time is up (and never before its minimum count). A median of 100 is
 *       stable to a few percent (its spread is ~1/8 of one run's), while the untimed runs are
 *       not what gets the code compiled: the settle loop ({@link Settle#warmTimed}) runs whole
 *       passes until the figures and the JIT are quiet. Products slower than
 *       {@code minMillis / ROUNDS / ENOUGH_RUNS} (0.13 ms) are timed as before.</li>
 *   <li>{@link #bestOfRounds}: after the first round, a sparse candidate whose best round so far
 *       is more than {@link #CLEARLY_SLOWER} times the best of all candidates' skips the later
 *       rounds. It cannot be chosen (the chosen one is the fastest, at or below that best), and
 *       later rounds only forgive a disturbed round, which would have to be off by more than 2x
 *       to matter. Dense, the baseline every choice and speed-up is judged against, always runs
 *       every round. The skipped candidate's figure stays in the pass, so the settle loop still
 *       sees it move (a cold kernel's 50x becomes its steady figure in a later pass).</li>
 * </ul>
 */
final class CandidateTiming {

    private CandidateTiming() {}

    /** Runs after which a phase of {@link #medianMillis} ends even when its time is not up. */
    static final int ENOUGH_RUNS = 100;

    /** A candidate more than this many times slower than the best so far skips the later rounds. */
    static final double CLEARLY_SLOWER = 2.0;

    /** At most this many runs a phase, as {@link SparsePlanner#medianMillis}. */
    static final int MAX_RUNS = 1000;

    /** One round of one candidate: its median milliseconds (a real timing, or a test's). */
    @FunctionalInterface
    interface RoundTimer {
        double medianMs(int candidate, int round);
    }

    /**
     * Every candidate's best round (ms) over {@code rounds} interleaved rounds (round by round,
     * every candidate in order), candidate 0 (dense) in every round, a later one skipping the
     * rounds after the first once its best is above {@link #CLEARLY_SLOWER} times the best of all.
     */
    static double[] bestOfRounds(int candidates, int rounds, RoundTimer timer) {
        double[] best = new double[candidates];
        Arrays.fill(best, Double.MAX_VALUE);
        for (int round = 0; round < rounds; round++) {
            double fastest = Arrays.stream(best).min().orElse(Double.MAX_VALUE); // before this round: the first round skips nobody
            for (int i = 0; i < candidates; i++) {
                if (i > 0 && round > 0 && best[i] > CLEARLY_SLOWER * fastest) continue;
                best[i] = Math.min(best[i], timer.medianMs(i, round));
            }
        }
        return best;
    }

    /**
     * Runs {@code r} untimed at least {@code warmup} times and then until {@code maxMillis} by
     * {@code clock} have passed or {@link #ENOUGH_RUNS} runs were made, whichever comes first;
     * then timed the same way, with {@code repeats} as the minimum; the median (ms).
     */
    static double medianMillis(Runnable r, int warmup, int repeats, double maxMillis, LongSupplier clock) {
        return medianMillis(r, warmup, repeats, maxMillis, ENOUGH_RUNS, clock);
    }

    /**
     * {@link #medianMillis(Runnable, int, int, double, LongSupplier)} with {@code enough} runs in
     * place of {@link #ENOUGH_RUNS} ({@link SparsePlanner#medianMillis} gives 1000: its phases last
     * their whole time but for the slowest products).
     */
    static double medianMillis(Runnable r, int warmup, int repeats, double maxMillis, int enough, LongSupplier clock) {
        long start = clock.getAsLong();
        for (int i = 0; i < warmup || (i < enough && (clock.getAsLong() - start) / 1e6 < maxMillis); i++) r.run();
        double[] t = new double[Math.max(repeats, 16)];
        int count = 0;
        double total = 0;
        while (count < repeats || (count < enough && total < maxMillis)) {
            long t0 = clock.getAsLong();
            r.run();
            double ms = (clock.getAsLong() - t0) / 1e6;
            if (count == t.length) t = Arrays.copyOf(t, 2 * t.length);
            t[count++] = ms;
            total += ms;
        }
        double[] s = Arrays.copyOf(t, count);
        Arrays.sort(s);
        return count % 2 == 1 ? s[count / 2] : (s[count / 2 - 1] + s[count / 2]) / 2;
    }
}
