package dev.shears.core.sparse;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The settle loop and the planner's use of it, on scripted timings and a scripted clock (no wall-clock noise). */
class SettleTest {

    /** Passes that return the scripted rows in turn (the last one forever), counting calls. */
    private static Settle.Pass script(AtomicInteger calls, double[]... rows) {
        return () -> rows[Math.min(calls.getAndIncrement(), rows.length - 1)].clone();
    }

    @Test void runsUntilEveryCandidateIsWithinAQuarterOfItsPreviousPassTwiceInARow() {
        AtomicInteger calls = new AtomicInteger();
        // dense is steady from the 2nd pass on, csr moves by 40% at the 3rd: stable at the 4th and 5th
        Settle.Pass pass = script(calls, new double[]{10, 2}, new double[]{1.2, 2}, new double[]{1.1, 2.8}, new double[]{1, 2.9},
                new double[]{1.05, 2.85}, new double[]{9, 9});
        assertEquals(5, Settle.untilStable(pass, () -> 0L, Long.MAX_VALUE));
        assertEquals(5, calls.get(), "stops at the second stable pass in a row");
    }

    /** Two equally cold passes do not end it: the figures must hold for one pass more. */
    @Test void twoEquallyColdPassesAreNotEnough() {
        AtomicInteger calls = new AtomicInteger();
        Settle.Pass pass = script(calls, new double[]{5}, new double[]{5}, new double[]{1}, new double[]{1}, new double[]{1}, new double[]{9});
        assertEquals(5, Settle.untilStable(pass, () -> 0L, Long.MAX_VALUE), "5, 5 (stable once), 1 (not), 1, 1 (stable twice)");
    }

    /**
     * The run report's batch-1 dense forward after a deoptimisation: C1 code at 0.85-1.35 ms, as
     * steady as warm code, while the JIT kept finishing compilations; C2 code then ran it in
     * 0.010 ms. Steady figures while the JIT moves are not stable: the loop goes on to the
     * warm ones (on figures alone it stopped at the third pass, on the slow code).
     */
    @Test void passesDuringWhichTheJitFinishedWorkAreNotStable() {
        AtomicInteger calls = new AtomicInteger();
        AtomicLong compiledMs = new AtomicLong();
        Settle.Pass pass = () -> {
            int call = calls.getAndIncrement();
            if (call < 5) compiledMs.addAndGet(3); // a compilation finished during each of the first five passes
            return new double[]{call < 5 ? 0.85 + 0.05 * (call % 2) : 0.010, 0.011};
        };
        assertEquals(3, Settle.untilStable(script(new AtomicInteger(), new double[]{0.85, 0.011}, new double[]{0.9, 0.011}), () -> 0L, Long.MAX_VALUE),
                "without a JIT signal the slow steady figures end the loop at once");
        Settle settle = new Settle(() -> 0L, compiledMs::get, Long.MAX_VALUE, Long.MAX_VALUE);
        double[] last = settle.untilStableTimed(pass, 1)[0];
        assertEquals(8, calls.get(), "5 passes while the JIT works, then 0.010 (not stable: 85x faster), 0.010, 0.010");
        assertEquals(0.010, last[0], 1e-12, "the figures the loop ends on are the warm code's");
    }

    /**
     * The JVM's first JIT read starts its platform MBean server (a quarter second or more, once):
     * that read comes before the cap's clock starts, and each pass costs one read, not two.
     */
    @Test void theFirstJitReadDoesNotCountAgainstTheCapAndEachPassReadsOnce() {
        AtomicLong now = new AtomicLong();
        AtomicInteger reads = new AtomicInteger();
        LongSupplier slowFirstRead = () -> {
            if (reads.getAndIncrement() == 0) now.addAndGet(1_000);
            return 0L;
        };
        int passes = Settle.untilStable(() -> new double[]{1}, now::get, slowFirstRead, 500);
        assertEquals(3, passes, "a baseline and two stable passes, the slow first read outside the 500 ns cap");
        assertEquals(passes, reads.get(), "one read before the second pass, then one after each pass");
    }

    /** The busy test reads {@code jcmd Compiler.queue}'s text as JDK 25 prints it. */
    @Test void readsTheCompilerQueue() {
        String busy = """
                Current compiles:\s
                C2 CompilerThread0  3520 %     4       dev.shears.core.cpu.Sgemm::smallMRowsOfB @ 235 (642 bytes)

                C1 compile queue:
                Empty

                C2 compile queue:
                Empty
                """;
        String queued = """
                Current compiles:\s

                C1 compile queue:
                Empty

                C2 compile queue:
                3536       4       dev.shears.core.cpu.Sgemm::smallMRowsOfB (642 bytes)
                """;
        String idle = """
                Current compiles:\s

                C1 compile queue:
                Empty

                C2 compile queue:
                Empty
                """;
        assertTrue(Settle.listsTimedCodeTask(busy), "a compile running");
        assertTrue(Settle.listsTimedCodeTask(queued), "a compile queued");
        assertEquals(false, Settle.listsTimedCodeTask(idle), "nothing running or queued");
    }

    /**
     * Only compilations of the timed code (Shears', the Vector API's) keep a pass from being
     * stable: the JVM-wide signal counted the timing harness's sort, picocli and the data loader
     * too, was almost never quiet on the shared machine, and the settle loops ran to their caps.
     */
    @Test void compilationsOfOtherCodeDoNotCount() {
        String other = """
                Current compiles:\s
                C2 CompilerThread0  4100       4       java.util.DualPivotQuicksort::sort (1182 bytes)
                C1 CompilerThread0  4101       3       picocli.CommandLine$Model$CommandSpec::name (5 bytes)

                C1 compile queue:
                4102       3       java.lang.invoke.MethodHandle::asType (32 bytes)

                C2 compile queue:
                Empty
                """;
        String vector = """
                Current compiles:\s

                C1 compile queue:
                Empty

                C2 compile queue:
                4200       4       jdk.incubator.vector.FloatVector::fromArray (35 bytes)
                """;
        String kernelAmongOthers = """
                Current compiles:\s
                C2 CompilerThread0  4100       4       java.util.DualPivotQuicksort::sort (1182 bytes)

                C1 compile queue:
                Empty

                C2 compile queue:
                4300   %   4       dev.shears.core.sparse.CsrMatrix::product @ 88 (410 bytes)
                """;
        assertFalse(Settle.listsTimedCodeTask(other), "the JDK's and a library's compiles: quiet for the settle loop");
        assertTrue(Settle.listsTimedCodeTask(vector), "a Vector API method the kernels call");
        assertTrue(Settle.listsTimedCodeTask(kernelAmongOthers), "a kernel's OSR compile queued behind an unrelated one");
        // and the loop: a pass that ends with only other code compiling is stable, one with a kernel compiling is not
        AtomicInteger reads = new AtomicInteger();
        String[] queues = {other, kernelAmongOthers, other, other, other, other};
        LongSupplier signal = Settle.jitActivity(() -> Settle.listsTimedCodeTask(queues[Math.min(reads.getAndIncrement(), queues.length - 1)]));
        assertEquals(4, Settle.untilStable(() -> new double[]{1}, () -> 0L, signal, Long.MAX_VALUE),
                "baseline; a pass ending with CsrMatrix compiling (not stable); then, the queue clear of it, two stable ones");
        assertEquals(6, reads.get(), "one read before the second pass, one after each pass, and two while waiting for the JIT to hold still");
    }

    /**
     * While the timed code compiles, the loop waits for the JIT instead of running passes that
     * cannot count (they would only take the cores from the compiler thread): a compile that
     * keeps the JIT busy for 50 reads costs one pass, not 50; the figures after it decide.
     */
    @Test void waitsForTheJitInsteadOfRunningPasses() {
        AtomicInteger reads = new AtomicInteger(), calls = new AtomicInteger();
        LongSupplier signal = Settle.jitActivity(() -> {
            int r = reads.getAndIncrement();
            return r >= 1 && r <= 50; // busy from the read after the second pass for 50 reads
        });
        AtomicLong now = new AtomicLong();
        // C1 code at 0.85 ms while C2 compiles, then C2 code at 0.010 ms
        Settle.Pass pass = () -> new double[]{reads.get() <= 50 ? 0.85 : 0.010};
        Settle.Pass counted = () -> {
            calls.incrementAndGet();
            return pass.run();
        };
        assertEquals(5, Settle.untilStable(counted, now::get, signal, 1_000_000_000L),
                "baseline, the pass the compile started in, the first on C2 code (85x faster: not stable), two stable");
        assertEquals(5, calls.get());
        assertEquals(1 + 4 + 49 + 2, reads.get(), "one before the second pass, one after each later pass, 49 more while busy, two to see it quiet");

        // on warm paths the same: a pass during which the JIT moved waits for it, then repeats once
        Settle settle = new Settle(now::get, signal, 1_000, 10_000, 1_000_000_000L, 10_000_000_000L);
        settle.warmTimed(List.of("p"), () -> new double[]{1});
        reads.set(0);
        calls.set(0);
        double[] last = settle.warmTimed(List.of("p"), counted);
        assertEquals(2, calls.get(), "the first pass (the JIT busy after it), then one with the JIT quiet");
        assertEquals(0.010, last[0], 1e-12, "the figures of the pass after the compile");
    }

    /** The JVM-wide budgets' JIT signal is looked up at its first read, once; a failed lookup leaves a constant and is not retried. */
    @Test void theJitSignalIsLookedUpAtItsFirstReadOnce() {
        AtomicInteger lookups = new AtomicInteger();
        AtomicLong compiled = new AtomicLong(7);
        LongSupplier lazy = Settle.lazy(() -> {
            lookups.incrementAndGet();
            return compiled::get;
        });
        assertEquals(0, lookups.get(), "nothing looked up before the first read");
        assertEquals(7, lazy.getAsLong());
        compiled.set(9);
        assertEquals(9, lazy.getAsLong());
        assertEquals(1, lookups.get(), "looked up once");

        AtomicInteger failedLookups = new AtomicInteger();
        LongSupplier broken = Settle.lazy(() -> {
            failedLookups.incrementAndGet();
            throw new UnsupportedOperationException("no management beans");
        });
        assertEquals(0L, broken.getAsLong(), "a failed lookup reads as a constant");
        assertEquals(0L, broken.getAsLong());
        assertEquals(1, failedLookups.get(), "and is not retried");
    }

    /** A busy query that throws (no diagnostic commands on this JVM) reads as not busy, and is not asked again. */
    @Test void anUnavailableCompilerQueueStopsBeingAsked() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        java.util.function.BooleanSupplier busy = Settle.untilUnavailable(() -> {
            if (asked.incrementAndGet() == 2) throw new javax.management.InstanceNotFoundException("com.sun.management:type=DiagnosticCommand");
            return true;
        });
        assertTrue(busy.getAsBoolean(), "the first answer is the query's");
        assertEquals(false, busy.getAsBoolean(), "the query threw: not busy");
        assertEquals(false, busy.getAsBoolean());
        assertEquals(2, asked.get(), "not asked after it threw");
        // the signal built on it: busy reads are new negatives, quiet ones 0
        AtomicInteger n = new AtomicInteger();
        LongSupplier signal = Settle.jitActivity(() -> n.incrementAndGet() <= 2);
        assertEquals(List.of(-1L, -2L, 0L, 0L), List.of(signal.getAsLong(), signal.getAsLong(), signal.getAsLong(), signal.getAsLong()));
    }

    /** The settle loop's last passes but the cold first one, as the whole-model check's rounds. */
    @Test void untilStableTimedGivesTheLastPassesButTheFirst() {
        AtomicInteger calls = new AtomicInteger();
        Settle settle = new Settle(() -> 0L, Long.MAX_VALUE, Long.MAX_VALUE);
        double[][] last = settle.untilStableTimed(script(calls, new double[]{40}, new double[]{20}, new double[]{12}, new double[]{10}, new double[]{10}), 3);
        assertEquals(5, calls.get());
        assertEquals(List.of(12.0, 10.0, 10.0), java.util.Arrays.stream(last).map(t -> t[0]).toList(), "the last three, oldest first");
        calls.set(0);
        AtomicLong now = new AtomicLong();
        Settle capped = new Settle(() -> now.addAndGet(100), 150, Long.MAX_VALUE);
        double[][] few = capped.untilStableTimed(script(calls, new double[]{40}, new double[]{20}, new double[]{12}), 3);
        assertEquals(2, calls.get(), "the cap ends the loop after its second pass");
        assertEquals(1, few.length, "the baseline (40) is never a round: only the second pass");
        assertEquals(20, few[0][0]);
        assertEquals(null, new Settle(() -> 0L, 1_000, 0).untilStableTimed(() -> new double[]{1}, 3), "a spent budget: nothing ran");
    }

    /**
     * A loop that stops at its cap unstable gives its last pass only: its earlier passes may have run while the JIT
     * compiled the timed code, and counting them as rounds made the whole-model check a best-of over noise.
     */
    @Test void untilStableTimedCappedUnstableGivesTheLastPassOnly() {
        AtomicInteger calls = new AtomicInteger();
        AtomicLong now = new AtomicLong();
        // never within a quarter of the pass before: 40, 20, 40, 20, ... until the cap
        Settle.Pass flipping = () -> new double[]{calls.getAndIncrement() % 2 == 0 ? 40 : 20};
        double[][] got = new Settle(() -> now.addAndGet(100), 1_000, Long.MAX_VALUE).untilStableTimed(flipping, 3);
        assertTrue(calls.get() >= 4, "the cap left room for several passes: " + calls.get());
        assertEquals(1, got.length, "only the last pass counts");
        assertEquals((calls.get() - 1) % 2 == 0 ? 40.0 : 20.0, got[0][0], "and it is the last one");
    }

    @Test void stopsAtItsTimeLimit() {
        AtomicLong now = new AtomicLong();
        AtomicInteger calls = new AtomicInteger();
        Settle.Pass neverStable = () -> {
            now.addAndGet(100);
            return new double[]{calls.incrementAndGet() % 2 == 0 ? 1 : 10};
        };
        // the first pass ends at 100 ns; from there on passes start at 100, 200 and 300 ns, none at 400
        assertEquals(4, Settle.untilStable(neverStable, now::get, 250));
    }

    /** A slow first pass (the planner's one-off kernel warm-up runs in it) does not use up the cap: the first layer planned was left unsettled. */
    @Test void theFirstPassDoesNotCountAgainstTheCap() {
        AtomicLong now = new AtomicLong();
        AtomicInteger calls = new AtomicInteger();
        Settle.Pass slowFirst = () -> {
            int call = calls.getAndIncrement();
            now.addAndGet(call == 0 ? 1_500 : 100);
            return new double[]{call < 2 ? 10 - 4 * call : 1};
        };
        assertEquals(5, Settle.untilStable(slowFirst, now::get, 1_000), "10, 6, 1, 1, 1: stable");
    }

    @Test void settlesAKeyOnceAndWithinTheTotalBudget() {
        AtomicLong now = new AtomicLong();
        Settle settle = new Settle(now::get, 300, 500);
        Settle.Pass neverStable = new Settle.Pass() {
            int i;
            @Override public double[] run() {
                now.addAndGet(100);
                return new double[]{++i % 2 == 0 ? 1 : 10};
            }
        };
        assertEquals(4, settle.once("a", neverStable), "per key: passes start for 300 ns after the first (at 100, 200, 300)");
        assertEquals(0, settle.once("a", neverStable), "a key is settled once");
        assertEquals(2, settle.once("b", neverStable), "what is left of the 500 ns budget after a's 400: 100 ns, one pass");
        assertEquals(0, settle.once("c", neverStable), "budget spent: no more settling");
    }

    /**
     * At a fresh shape the first timings are cold (dense 5x its settled time, as fc1 of a pruned
     * LeNet-300-100 was 100x): without settling, the first planning chose a sparse format and the
     * second dense. With it, the decision is the same both times, and the second planning of the
     * same (shape, batch) does not settle again.
     */
    @Test void theDecisionAtAFreshShapeIsTheSameInTwoPlannings() {
        int rows = 12, cols = 16;
        float[] a = SparseBench.randomSparse(rows, cols, 0.75, 5);
        AtomicInteger calls = new AtomicInteger();
        List<Integer> candidateCounts = new ArrayList<>();
        SparsePlanner.Timer coldThenWarm = (candidates, x, y, n, batchMajor) -> {
            int call = calls.getAndIncrement();
            candidateCounts.add(candidates.size());
            double[] ms = new double[candidates.size()];
            ms[0] = call == 0 ? 5.0 : call == 1 ? 3.0 : 1.0; // dense: the JIT compiles it for this shape over two passes
            for (int i = 1; i < ms.length; i++) ms[i] = 2.0; // every sparse format: steady
            return ms;
        };
        AtomicLong now = new AtomicLong();
        SparsePlanner.Options opt = new SparsePlanner.Options(1, 3, 1, new int[]{}, 2.0, 0.05);
        SparsePlanner planner = new SparsePlanner(opt, new Settle(now::get, 1_000, 10_000), coldThenWarm);
        SparsePlanner.Choice first = planner.choose(a, rows, cols, 1, true);
        int firstCalls = calls.get();
        SparsePlanner.Choice second = planner.choose(a, rows, cols, 1, true);
        assertTrue(candidateCounts.getFirst() > 1, "a sparse candidate is timed: " + first.timings());
        assertEquals("dense", first.format(), "settled first planning: " + first.timings());
        assertEquals(first.format(), second.format());
        assertEquals(5, firstCalls, "settle: 5, 3, 1, 1, 1 ms (stable twice); the last pass is the timing itself");
        assertEquals(1.0, first.timings().getFirst().medianMs(), "the timing is the settled pass's, not the cold first one");
        assertEquals(1, calls.get() - firstCalls, "the same (shape, batch) is not settled twice");
        SparsePlanner.Choice otherBatch = planner.choose(a, rows, cols, 2, true);
        assertEquals("dense", otherBatch.format());
        assertEquals(firstCalls + 1 + 3, calls.get(), "a new batch size is settled: three passes, the last one the timing");
    }

    /** Quick options (minMillis 0) promise no reliable figures and do not settle. */
    @Test void quickOptionsDoNotSettle() {
        float[] a = SparseBench.randomSparse(12, 16, 0.75, 5);
        AtomicInteger calls = new AtomicInteger();
        SparsePlanner.Timer timer = (candidates, x, y, n, batchMajor) -> {
            calls.incrementAndGet();
            return new double[candidates.size()];
        };
        new SparsePlanner(SparsePlanner.Options.quick(), new Settle(() -> 0L, 1_000, 10_000), timer).choose(a, 12, 16, 1, true);
        assertEquals(1, calls.get());
    }

    /** A pass that advances the scripted clock by {@code nanos} and returns a different figure each call (never stable), counting calls. */
    private static Settle.Pass costing(AtomicLong now, long nanos, AtomicInteger calls) {
        return () -> {
            now.addAndGet(nanos);
            return new double[]{calls.incrementAndGet() % 2 == 0 ? 1 : 10};
        };
    }

    /**
     * ResNet-50's case: dozens of convolution shapes on the same kernels, then one Dense layer, the
     * only product of its kind. Settled per shape, the budget was gone before the Dense layer and
     * it was timed cold; settled per code path, the convolutions after the first cost one pass
     * each and the Dense layer's new paths are settled.
     */
    @Test void aNewCodePathIsSettledAfterManyShapesOnWarmOnes() {
        AtomicLong now = new AtomicLong();
        Settle settle = new Settle(now::get, () -> 0L, 300, 500, 200, 1_000);
        AtomicInteger calls = new AtomicInteger();
        List<String> convPaths = SparsePlanner.codePaths(List.of("dense", "csr"), 49, false);
        settle.warmTimed(convPaths, costing(now, 100, calls));
        assertEquals(4, calls.get(), "the first shape on new paths: passes for 300 ns after the first");
        assertTrue(settle.warm("csr multiplyT n>4"));
        for (int layer = 0; layer < 50; layer++) {
            calls.set(0);
            settle.warmTimed(convPaths, costing(now, 100, calls));
            assertEquals(1, calls.get(), "a shape on warm paths with the JIT quiet: one pass, the timing");
        }
        calls.set(0);
        List<String> densePaths = SparsePlanner.codePaths(List.of("dense", "csr"), 1, true);
        assertEquals(List.of("dense multiply n=1", "csr multiply n=1"), densePaths);
        double[] last = settle.warmTimed(densePaths, costing(now, 100, calls));
        assertEquals(2, calls.get(), "a new path after 5,000 ns of warm shapes: settled, on what the first key left of the 500 ns (100 ns)");
        assertEquals(1, last[0], "the figures are the last pass's (the second: 1)");
        assertTrue(settle.warm("dense multiply n=1"));
    }

    /**
     * On warm paths a pass during which the JIT finished or ran something (a new shape that meets
     * an untaken branch deoptimises and recompiles) is repeated until one runs with the JIT
     * quiet, within the per-key and total limits for those repeats.
     */
    @Test void onWarmPathsAPassDuringWhichTheJitMovedIsRepeated() {
        AtomicLong now = new AtomicLong();
        AtomicLong compiled = new AtomicLong();
        Settle settle = new Settle(now::get, compiled::get, 1_000, 10_000, 250, 400);
        List<String> paths = List.of("csr multiplyT n>4");
        settle.warmTimed(paths, () -> new double[]{1}); // warms the path (stable at once: no clock, no JIT)
        AtomicInteger calls = new AtomicInteger();
        double[] last = settle.warmTimed(paths, () -> {
            now.addAndGet(100);
            int call = calls.incrementAndGet();
            if (call <= 2) compiled.addAndGet(5); // the JIT finished work during the first two passes
            return new double[]{call <= 2 ? 9 : 1};
        });
        assertEquals(3, calls.get(), "two passes with the JIT moving, then a quiet one");
        assertEquals(1, last[0], "the quiet pass's figures");
        calls.set(0);
        settle.warmTimed(paths, () -> {
            now.addAndGet(100);
            calls.incrementAndGet();
            compiled.addAndGet(5); // never quiet
            return new double[]{1};
        });
        assertEquals(3, calls.get(), "repeats start for what is left of the 400 ns total (200, less than the 250 per key) after the first pass: at 0 and 100 ns");
        calls.set(0);
        settle.warmTimed(paths, () -> {
            now.addAndGet(100);
            calls.incrementAndGet();
            compiled.addAndGet(5);
            return new double[]{1};
        });
        assertEquals(1, calls.get(), "the 400 ns for repeats is spent (200 + 200): the first pass is the timing");
    }

    /**
     * A pruned LeNet-5's conv2 on the CSR path conv1 had warmed: its first passes ran on code
     * thrown back to the interpreter (0.65 ms for 24,000 multiply-adds, where the path ran conv1
     * at 3.4 a ns) with nothing of it in the JIT's queue after the first, then 0.0026 ms once
     * recompiled. The slow pass is repeated until the figures are back; a small product whose
     * time is mostly a product's overhead is not taken for deoptimised; a candidate slow for good
     * costs the repeats' limit and is then timed as it is.
     */
    @Test void onWarmPathsADeoptimisedCandidateIsRepeatedUntilItIsBack() {
        AtomicLong now = new AtomicLong();
        Settle settle = new Settle(now::get, () -> 0L, 1_000, 10_000, 250, 10_000);
        List<String> paths = List.of("dense multiplyT n>4", "csr multiplyT n>4");
        // conv1 settles the paths: dense 117,600 multiply-adds in 0.0045 ms, CSR 11,760 in 0.0035 ms
        settle.warmTimed(paths, new double[]{117_600, 11_760}, () -> new double[]{0.0045, 0.0035});
        AtomicInteger calls = new AtomicInteger();
        double[] conv2 = settle.warmTimed(paths, new double[]{240_000, 24_000}, () -> {
            now.addAndGet(10);
            int call = calls.incrementAndGet();
            return new double[]{0.0093, call <= 3 ? 0.65 : 0.0026};
        });
        assertEquals(4, calls.get(), "three passes on interpreted CSR code, then one on the recompiled code");
        assertEquals(0.0026, conv2[1], 1e-12);

        calls.set(0);
        settle.warmTimed(List.of("csr multiplyT n>4"), new double[]{84}, () -> {
            calls.incrementAndGet();
            return new double[]{0.021}; // 84 nonzeros: ~0.0000025 ms of work at the path's rate, the rest overhead
        });
        assertEquals(1, calls.get(), "a product that costs its overhead is not deoptimised code");

        calls.set(0);
        double[] slow = settle.warmTimed(paths, new double[]{240_000, 24_000}, () -> {
            now.addAndGet(100);
            calls.incrementAndGet();
            return new double[]{0.0093, 0.65};
        });
        assertEquals(4, calls.get(), "slow for good: passes start for the 250 ns limit after the first (at 0, 100, 200), then it is timed as it is");
        assertEquals(0.65, slow[1]);
        assertEquals(List.of(1.0), List.of(settle.warmTimed(List.of("x"), (double[]) null, () -> new double[]{1})[0]), "no work figures: no such check");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> settle.warmTimed(paths, new double[]{1}, () -> new double[]{1, 1}), "one work figure per path");
    }

    /** Once the budget for new paths is spent, a new path is timed as a warm one: one pass while the JIT is quiet. */
    @Test void aNewPathAfterTheBudgetIsSpentIsTimedOnce() {
        AtomicLong now = new AtomicLong();
        Settle settle = new Settle(now::get, () -> 0L, 300, 300, 200, 1_000);
        AtomicInteger calls = new AtomicInteger();
        settle.warmTimed(List.of("a"), costing(now, 100, calls));
        assertEquals(4, calls.get(), "the whole 300 ns budget");
        calls.set(0);
        settle.warmTimed(List.of("b"), costing(now, 100, calls));
        assertEquals(1, calls.get());
        assertFalse(settle.warm("b"), "not settled: a later key on it is not taken for warm by mistake");
    }
}
