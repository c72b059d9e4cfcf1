package dev.shears.core.sparse;

import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Untimed timing passes at one shape until the figures stop moving: the one settle loop of the
 * sparse timings, used by {@link SparseBench#sweep}, by {@link SparsePlanner} the first time it
 * times a code path ({@link #warmTimed}, below) and by the CUDA planner the first time it times a
 * (shape, batch) ({@link #onceTimed}). The CPU planner's small-matrix warm-up ({@link SparsePlanner#warmUpKernels})
 * is not enough: at a new shape the JIT recompiles (under load, for hundreds of ms), and the
 * timing taken on that code is arbitrary (a pruned LeNet-300-100's fc1 at batch 1: dense 1.117 ms
 * in the first planning, 0.0114 ms in the second; fc3 got blocked-ell-4, then dense).
 *
 * <p>An instance remembers which (shape, batch) it has settled and how much of its time budget
 * is left, so that a model with many layers does not spend minutes settling: each new key gets
 * at most {@code perKeyNanos}, and all of them together at most {@code totalNanos}; once that is
 * spent, further keys are timed without settling (the planner's interleaved best-of rounds still
 * apply). The JIT's state is the JVM's, so each planner shares one instance ({@link #PLANNER},
 * {@link #GPU_PLANNER}).
 *
 * <p>The CPU planner settles by code path instead ({@link #warmTimed}): what the JIT compiles is a
 * kernel (a format's product of one kind), not a shape, so the budget goes to the first shape met on
 * each path, and a later shape on warm paths is timed at once, again only while the JIT moved
 * during its pass. Spent per shape, the 10 s went on ResNet-50's first few convolutions and its last
 * Dense layer, the only product of its kind, was timed on cold code: CSR 4.47 ms in the plan
 * against 0.096 ms for the same shape timed alone.
 *
 * <p>On CUDA the figures move for other reasons too (the GPU's clocks ramp up from idle, the first
 * launches of a library load its kernels, the host side of every launch runs through the JIT like
 * any Java), so the CUDA planner settles the same way on its own instance ({@link #GPU_PLANNER}),
 * and the whole-model checks of both backends ({@link WholeModelCheck#measure}) settle their one
 * round of dense and planned forwards on {@link #WHOLE_MODEL} before the rounds that decide.
 */
public final class Settle {

    /** One timing pass: every candidate's time (ms), in a fixed candidate order. */
    @FunctionalInterface
    public interface Pass {
        double[] run();
    }

    /** A pass is stable when every candidate's time is within this factor of its previous pass's. */
    static final double TOLERANCE = 1.25;

    /**
     * Stable passes in a row that end the loop. Two, not one: two passes can be equally cold (a
     * LeNet fc2's dense product took 0.073 ms in both, then 0.002 ms in the timing after them).
     */
    static final int STABLE_IN_A_ROW = 2;

    /**
     * The JVM's JIT signal ({@link #jitActivity}) for the JVM-wide budgets below (declared first: they read it as this class initialises), looked up at its first read,
     * not when this class loads: a command that never times anything does not start the JVM's
     * management beans, and a JVM without them cannot make this class fail to initialise.
     */
    private static final LongSupplier JVM_JIT = lazy(Settle::jitActivity);

    /**
     * The CPU planner's, by code path ({@link #warmTimed}): passes for a shape that meets a new path
     * start for at most 2 s after the first (a pass at the default options takes ~0.3 s with four
     * candidates, so up to ~7 passes), and all of those together stop starting passes after 10 s
     * per JVM; a shape on warm paths repeats a pass during which the JIT moved for at most 0.5 s,
     * all of those together at most 10 s per JVM. So planning a model with many distinct layer
     * shapes costs at most about 20 s more than one pass a shape (ResNet-50 at batch 1: ~3 s
     * settling its first convolution, ~3 s its Dense layer, ~5 s of repeats over 52 shapes).
     */
    static final Settle PLANNER = perJvm();

    /**
     * The CUDA planner's ({@code CudaSparsePlanner}), with the CPU planner's limits: a pass there
     * is every candidate's warm-up and repeats with CUDA events (milliseconds for a small layer),
     * so 2 s allow many passes, and a model with many distinct layer shapes pays at most ~10 s
     * more. Its own budget, not the CPU planner's: the two settle different machines.
     */
    public static final Settle GPU_PLANNER = perJvm();

    /**
     * The whole-model checks' ({@link WholeModelCheck#measure}, CPU and CUDA): one check at most
     * 2 s, all checks of a JVM together at most 10 s. Not the planners' budgets: a model with many
     * layer shapes may have spent those, and its check must still not be judged cold (the model's
     * own dense forward runs code the planner never timed, e.g. the Dense layer's own product).
     */
    public static final Settle WHOLE_MODEL = perJvm();

    /**
     * The run report's dense-against-sparse timing ({@link InferenceComparison#compare}, CPU and
     * CUDA): one comparison at most 2 s, all of a JVM together at most 10 s. Its own budget: it
     * runs after the plan's whole-model check, which may have spent {@link #WHOLE_MODEL}'s, at
     * every batch size the report asks for.
     */
    public static final Settle COMPARISON = perJvm();

    /**
     * A budget on the wall clock of at most 2 s per key and 10 s in all (each JVM-wide budget above
     * has its own), with the JIT's work on the timed code as the signal ({@link #JVM_JIT}).
     */
    private static Settle perJvm() { return new Settle(System::nanoTime, JVM_JIT, 2_000_000_000L, 10_000_000_000L); }

    /**
     * A signal that asks {@code source} for the real one at its first read, once (concurrent
     * first reads wait for the one lookup); where the lookup fails, a constant (the figures alone
     * decide), and {@code source} is not asked again.
     */
    static LongSupplier lazy(Supplier<LongSupplier> source) {
        return new LongSupplier() {
            private volatile LongSupplier signal;

            @Override public long getAsLong() {
                LongSupplier s = signal;
                if (s == null) {
                    synchronized (this) {
                        if ((s = signal) == null) {
                            try {
                                s = source.get();
                            } catch (RuntimeException | LinkageError e) {
                                s = () -> 0L; // no management beans on this JVM (a runtime linked without java.management)
                            }
                            signal = s;
                        }
                    }
                }
                return s.getAsLong();
            }
        };
    }

    /**
     * The JIT as the settle loop's signal: 0 while no compilation of {@linkplain #TIMED_CODE the
     * code a timing runs} is running or queued, and a new negative value at every call while one
     * is (so a pass that starts or ends with such a compilation in the JIT is never stable). Read
     * from the {@code Compiler.queue} diagnostic command (what {@code jcmd PID Compiler.queue}
     * prints: 0.2-7 ms on the loaded 2-core box, once per pass), filtered to {@link #TIMED_CODE}. The case that matters is
     * a C2 compile of a big Vector API method running for a second on a loaded machine, during
     * which the code it will replace runs steadily slow: the figures cannot tell, the queue can.
     * Where the JVM offers no diagnostic commands, a constant (the figures alone decide).
     *
     * <p>Not the JVM's accumulated compilation time ({@link java.lang.management.CompilationMXBean},
     * the signal until 2026-11-22): it moves for every compilation in the JVM, the timing harness's
     * sort, picocli, the data loader's, and on the shared 2-core machine it almost never stood
     * still for two passes, so the settle loops ran to their caps (2 s for a new code path, 0.5 s
     * a layer on warm ones) with figures stable for many passes (most of a pruned LeNet-5's 13.6 s
     * of planning; bench/results/planning-time-2026-11-22.txt). A compilation of the
     * timed code that starts and finishes between two reads is missed, but it changed the code
     * under the figures, which then move: the loop needs {@link #STABLE_IN_A_ROW} passes within
     * {@link #TOLERANCE} of the one before. Not JFR's {@code jdk.Compilation} events filtered by
     * method either: a RecordingStream took 0.27-0.51 s to start and delivered a compilation
     * 0.8-1.0 s after it ended (events come in once-a-second flushes; measured on the shared
     * 2-core box), so a pass would have to wait a second to learn whether it was quiet.
     */
    static LongSupplier jitActivity() {
        return jitActivity(untilUnavailable(Settle::compilerQueueBusy));
    }

    /** {@link #jitActivity()} from its reading: whether a compilation of the timed code is running or queued. */
    static LongSupplier jitActivity(BooleanSupplier busy) {
        AtomicLong busyCalls = new AtomicLong();
        return () -> busy.getAsBoolean() ? -busyCalls.incrementAndGet() : 0L;
    }

    /**
     * Class-name prefixes of the code the sparse timings run: Shears' own (the formats' kernels,
     * {@code Sgemm}, {@code Parallel}, the layers of a whole-model check's forwards, the CUDA
     * bindings' host side) and the Vector API's, whose methods the kernels call and the JIT
     * compiles on their own while a kernel is not yet compiled with them inlined.
     */
    static final List<String> TIMED_CODE = List.of("dev.shears.", "jdk.incubator.vector.", "jdk.internal.vm.vector.");

    /** A reading of whether the JIT is busy that may throw where the JVM does not offer it. */
    @FunctionalInterface
    interface BusyQuery {
        boolean busy() throws JMException;
    }

    /**
     * {@code query}'s answer, and false once it has thrown: a JVM without diagnostic commands (a
     * runtime linked without jdk.management) would only throw again, so it is not asked again.
     */
    static BooleanSupplier untilUnavailable(BusyQuery query) {
        AtomicBoolean available = new AtomicBoolean(true);
        return () -> {
            if (!available.get()) return false;
            try {
                return query.busy();
            } catch (JMException | RuntimeException e) {
                available.set(false); // the figures alone decide from here on
                return false;
            }
        };
    }

    private static final String[] DCMD_SIGNATURE = {String[].class.getName()};

    /**
     * Whether {@code Compiler.queue} output lists a task (running or queued) of {@link #TIMED_CODE}:
     * every task line names {@code Class::method}, the class fully qualified.
     */
    static boolean listsTimedCodeTask(String compilerQueue) {
        for (String line : compilerQueue.split("\\R")) {
            int sep = line.indexOf("::");
            if (sep < 0) continue;
            String cls = line.substring(line.lastIndexOf(' ', sep) + 1, sep);
            for (String prefix : TIMED_CODE) if (cls.startsWith(prefix)) return true;
        }
        return false;
    }

    /**
     * Whether a JIT compilation of {@link #TIMED_CODE} is running or queued, by the {@code compilerQueue}
     * operation of the platform's {@code DiagnosticCommand} MBean (its first call starts the platform
     * MBean server). Its output lists each task as a line naming {@code Class::method}, and "Empty"
     * for an empty queue.
     *
     * @throws JMException where the JVM offers no diagnostic commands
     */
    private static boolean compilerQueueBusy() throws JMException {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Object out = server.invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerQueue", new Object[] {null}, DCMD_SIGNATURE);
        return out instanceof String text && listsTimedCodeTask(text);
    }

    /**
     * What a planner settles once: a product's shape ({@code rows x cols} weights, {@code n}
     * batch columns, batch-major or not) with the candidate formats it times there.
     */
    public record Key(int rows, int cols, int n, boolean batchMajor, List<String> candidates) {}

    /**
     * A pass that remembers the figures of its last run. The pass that ends a settle loop is itself
     * a timing of the same candidates: either stable (within {@link #TOLERANCE} of the two before
     * it) or the last one the cap allowed, which a further pass would not make any warmer. So a
     * caller that settled uses those figures ({@link #onceTimed}, {@link #untilStableTimed}, {@link #warmTimed}) instead
     * of timing once more.
     */
    private static final class Recorded implements Pass {
        private final Pass pass;
        private final int keep;
        private final ArrayDeque<double[]> runs = new ArrayDeque<>(); // the last keep runs' figures, oldest first
        private int count;

        Recorded(Pass pass) { this(pass, 1); }

        /** Remembers the figures of the last {@code keep} runs. */
        Recorded(Pass pass, int keep) {
            this.pass = pass;
            this.keep = keep;
        }

        @Override public double[] run() {
            double[] t = pass.run();
            if (runs.size() == keep) runs.removeFirst();
            runs.addLast(t);
            count++;
            return t.clone();
        }

        /** The figures of the last run (null before the first). */
        double[] last() { return runs.isEmpty() ? null : runs.getLast().clone(); }

        /** The figures of the last {@code keep} runs but the first run (the settle loop's baseline), oldest first. */
        double[][] lastButFirst() {
            return runs.stream().skip(Math.max(0, runs.size() - (count - 1))).map(double[]::clone).toArray(double[][]::new);
        }
    }

    private final LongSupplier clock;
    private final LongSupplier jit;
    private final long perKeyNanos;
    private long budgetNanos; // guarded by this
    private final Set<Object> settled = new HashSet<>(); // guarded by this
    private final Set<Object> warmPaths = new HashSet<>(); // guarded by this: the paths of keys settled by warmTimed
    private final Map<Object, Double> fastest = new HashMap<>(); // guarded by this: each path's fastest ms per unit of work (warmTimed)
    private final long quietPerKeyNanos;
    private long quietBudgetNanos; // guarded by this

    /**
     * @param clock       nanoseconds, as {@link System#nanoTime} (tests give their own)
     * @param perKeyNanos the most one key may take
     * @param totalNanos  the most all keys together may take
     */
    public Settle(LongSupplier clock, long perKeyNanos, long totalNanos) {
        this(clock, () -> 0L, perKeyNanos, totalNanos);
    }

    /**
     * @param clock       nanoseconds, as {@link System#nanoTime} (tests give their own)
     * @param jit         a count that moves while the JIT works on the timed code (the JVM's: {@link #jitActivity});
     *                    a pass during which it moved is not stable
     * @param perKeyNanos the most one key may take
     * @param totalNanos  the most all keys together may take
     */
    public Settle(LongSupplier clock, LongSupplier jit, long perKeyNanos, long totalNanos) {
        this(clock, jit, perKeyNanos, totalNanos, perKeyNanos / 4, totalNanos);
    }

    /**
     * @param clock            nanoseconds, as {@link System#nanoTime} (tests give their own)
     * @param jit              a count that moves while the JIT works on the timed code (the JVM's: {@link #jitActivity});
     *                         a pass during which it moved is not stable
     * @param perKeyNanos      the most one key may take
     * @param totalNanos       the most all keys together may take
     * @param quietPerKeyNanos {@link #warmTimed} on warm paths: the most a key's passes after its first may take
     * @param quietTotalNanos  and all those passes together
     */
    public Settle(LongSupplier clock, LongSupplier jit, long perKeyNanos, long totalNanos, long quietPerKeyNanos, long quietTotalNanos) {
        if (perKeyNanos < 0 || totalNanos < 0 || quietPerKeyNanos < 0 || quietTotalNanos < 0)
            throw new IllegalArgumentException("settle limits must be >= 0, got " + perKeyNanos + " ns per key, " + totalNanos + " ns in all, "
                    + quietPerKeyNanos + " ns per key on warm paths, " + quietTotalNanos + " ns in all on warm paths");
        this.clock = clock;
        this.jit = jit;
        this.perKeyNanos = perKeyNanos;
        this.budgetNanos = totalNanos;
        this.quietPerKeyNanos = quietPerKeyNanos;
        this.quietBudgetNanos = quietTotalNanos;
    }

    /**
     * Times {@code pass} (one timing of a key's candidates) as warm as its code needs, and returns the
     * figures of its last run. {@code paths}: the compiled code the candidates run (for the CPU
     * planner a format's kernel for one kind of product, {@link SparsePlanner#codePaths}).
     * <ul>
     *   <li>Where one of them is met for the first time and budget is left: until stable
     *       ({@link #untilStable(Pass)}: the first pass a baseline, at most perKey, and all such keys
     *       together at most the total), after which all its paths are warm.</li>
     *   <li>Where every one is warm (a key before settled it), the first pass is the timing, unless
     *       the JIT was compiling the timed code before or after it (a new shape can still meet a
     *       branch its code never saw, deoptimise and recompile): then it waits for the JIT to hold
     *       still ({@link #untilJitQuiet}) and repeats the pass, until one runs with the
     *       JIT quiet, starting for at most quietPerKey after the first, all keys together at most
     *       quietTotal. So a model with many shapes pays about one pass a shape, as without
     *       settling, and the settling budget goes where code is cold.</li>
     *   <li>A new path once the budget is spent is timed as a warm one.</li>
     * </ul>
     * Synchronized, as {@link #once}.
     */
    public double[] warmTimed(Collection<?> paths, Pass pass) {
        return warmTimed(List.copyOf(paths), null, pass);
    }

    /**
     * {@link #warmTimed(Collection, Pass)} with one path per candidate ({@code paths.get(i)} runs
     * candidate i) and each candidate's {@code work} (multiply-adds; null: none), by which a
     * pass on warm paths is also repeated, within the same limits, while a candidate runs more
     * than {@link #DEOPTIMISED} times slower than its path's fastest rate predicts
     * ({@link #deoptimised}): code that was compiled for the path and has since been thrown away.
     * A candidate that is that slow for good costs its layer the repeats' limit (0.5 s at the
     * planner's defaults) and is then timed as it is.
     *
     * <p>Why: a new shape on a warm path can meet a branch the compiled code never took, and run
     * in the interpreter until the JIT has compiled it again; the queue shows that only from when
     * the recompilation is queued. Traced on a pruned LeNet-5, conv2's CSR product (16x150, 100
     * pixels; conv1 had warmed the path) ran 0.59-0.75 ms a product for four passes, the first
     * with nothing of CsrMatrix in the queue after it, then 0.0026 ms once C2 had compiled it
     * again; dense took 0.009 ms. Accepted at the first pass, that layer went dense in some
     * plannings and CSR in others.
     */
    public synchronized double[] warmTimed(List<?> paths, double[] work, Pass pass) {
        if (work != null && work.length != paths.size())
            throw new IllegalArgumentException("one work figure per path: " + paths.size() + " paths, " + work.length + " figures");
        Recorded recorded = new Recorded(pass);
        if (budgetNanos > 0 && !warmPaths.containsAll(paths)) {
            untilStable(recorded);
            warmPaths.addAll(paths);
            remember(paths, work, recorded.last());
            return recorded.last();
        }
        long before = jit.getAsLong();
        double[] t = recorded.run();
        long after = jit.getAsLong();
        long start = clock.getAsLong();
        long cap = Math.min(quietPerKeyNanos, quietBudgetNanos);
        while ((after != before || deoptimised(paths, work, t)) && clock.getAsLong() - start < cap) {
            before = after != before ? untilJitQuiet(after, clock, jit, start, cap) : after;
            t = recorded.run();
            after = jit.getAsLong();
        }
        quietBudgetNanos -= clock.getAsLong() - start;
        remember(paths, work, recorded.last());
        return recorded.last();
    }

    /**
     * A candidate on a warm path this many times slower than its path's fastest rate predicts
     * ({@link #deoptimised}) is taken for deoptimised code: code thrown back to the interpreter
     * or C1 is 30-250x slower, where warm code's rate moves less between shapes (a pruned
     * LeNet-5's dense products ran at 14-48 multiply-adds a ns across its five layers).
     */
    static final double DEOPTIMISED = 10;

    /**
     * What a product costs whatever its work (ms), added to the rate's prediction: a small one's
     * time is mostly this (a pruned LeNet-5's fc3 in CSR, 84 nonzeros at batch 256: 0.021 ms, 1
     * multiply-add a ns, where fc1's 4,800 ran at 12 a ns on the same path).
     */
    static final double OVERHEAD_MS = 0.02;

    /**
     * Whether a candidate of {@code t} took more than {@link #DEOPTIMISED} times what its path's
     * fastest rate (ms per unit of work) predicts for its work, plus {@link #OVERHEAD_MS}.
     */
    private boolean deoptimised(List<?> paths, double[] work, double[] t) {
        if (work == null) return false;
        for (int i = 0; i < t.length; i++) {
            Double rate = fastest.get(paths.get(i));
            if (rate != null && t[i] > DEOPTIMISED * (rate * work[i] + OVERHEAD_MS)) return true;
        }
        return false;
    }

    /** Keeps each path's fastest time per unit of work of the accepted figures {@code t}. */
    private void remember(List<?> paths, double[] work, double[] t) {
        if (work == null || t == null) return;
        for (int i = 0; i < t.length; i++)
            if (work[i] > 0 && t[i] > 0) fastest.merge(paths.get(i), t[i] / work[i], Math::min);
    }

    /** Whether {@link #warmTimed} has settled a key that ran {@code path}. */
    synchronized boolean warm(Object path) { return warmPaths.contains(path); }

    /**
     * Settles {@code key} the first time it is asked for, while budget is left; the passes it ran
     * (0 for a key already settled, or when the budget is spent). Synchronized: two planners
     * timing at once would disturb each other's figures anyway.
     */
    public synchronized int once(Object key, Pass pass) {
        if (budgetNanos <= 0 || settled.contains(key)) return 0;
        int passes = untilStable(pass);
        settled.add(key);
        return passes;
    }

    /**
     * {@link #once}, returning the figures of the settle loop's last pass, which is a timing of its
     * own; null when nothing ran (a key settled before, or a spent budget), so the caller times.
     */
    public double[] onceTimed(Object key, Pass pass) {
        Recorded recorded = new Recorded(pass);
        return once(key, recorded) > 0 ? recorded.last() : null;
    }

    /**
     * {@link #untilStable(Pass)}, returning the figures of its last {@code keep} passes after the
     * first (fewer where it ran fewer), oldest first; null when the budget is spent. When the loop
     * ended stable, its last {@link #STABLE_IN_A_ROW} + 1 passes are each within
     * {@link #TOLERANCE} of the one before with the JIT quiet: as good as rounds timed after it,
     * so a caller timing in best-of rounds ({@link WholeModelCheck#measure}) counts them as
     * rounds instead of timing again. When it stopped at its cap unstable, only its last pass
     * counts (the earlier ones may have run while the JIT compiled the timed code, and a best-of
     * over them is a best-of over noise), so the caller times its other rounds afresh. The first
     * pass is the cold baseline, never a round.
     */
    public double[][] untilStableTimed(Pass pass, int keep) {
        if (keep < 1) throw new IllegalArgumentException("keep at least one pass, got " + keep);
        Recorded recorded = new Recorded(pass, keep);
        Outcome o = settle(recorded);
        if (o.passes() == 0) return null;
        double[][] last = recorded.lastButFirst();
        return o.stable() || last.length <= 1 ? last : new double[][] {last[last.length - 1]};
    }

    /** How a settle loop ended: the passes it ran, and whether it ended stable rather than at its cap. */
    record Outcome(int passes, boolean stable) {}

    /**
     * Settles {@code pass} now, whatever was settled before, within one key's limit and what is
     * left of the budget; the passes it ran (0 when the budget is spent). For a timing that is
     * taken once (a whole-model check), where remembering a key would only leak.
     */
    public int untilStable(Pass pass) { return settle(pass).passes(); }

    /** {@link #untilStable(Pass)}, saying whether the loop ended stable. */
    private synchronized Outcome settle(Pass pass) {
        if (budgetNanos <= 0) return new Outcome(0, false);
        long start = clock.getAsLong();
        Outcome o = settle(pass, clock, jit, Math.min(perKeyNanos, budgetNanos));
        budgetNanos -= clock.getAsLong() - start;
        return o;
    }

    /** {@link #untilStable(Pass, LongSupplier, LongSupplier, long)} without a JIT signal: the figures alone decide. */
    static int untilStable(Pass pass, LongSupplier clock, long capNanos) {
        return untilStable(pass, clock, () -> 0L, capNanos);
    }

    /**
     * Runs {@code pass} until every candidate's time is within {@link #TOLERANCE} of its previous
     * pass (both ways) and {@code jit} did not move while it ran, in {@link #STABLE_IN_A_ROW}
     * passes in a row, or no new pass once {@code capNanos} by {@code clock} have passed since the
     * first pass ended; the passes run (at least two when the cap is not 0). The first pass is the
     * baseline whatever it costs: it may include the one-off {@link SparsePlanner#warmUpKernels}
     * (up to 1.5 s), and counting that against the cap left a first layer unsettled.
     *
     * <p>Why the JIT signal: steady figures alone do not mean warm code. A product whose compiled
     * code was thrown away (an uncommon trap) runs in the interpreter or C1 code, 30-100x slower
     * but just as steadily, until C2 has compiled it again, which on a loaded machine takes
     * seconds. The run report once timed a LeNet-300-100's batch-1 dense forward at 1.35 ms
     * (134x the steady 0.010 ms) in exactly that window: the planner's batch-1 GEMVs had C2
     * compile {@code Sgemm}'s small-row path on a profile where B was always transposed, the
     * model's own forward then took the other branch and deoptimised it, and five passes of the
     * C1 code were all within 25% of each other (while C2 compiled the small-row path again). A
     * pass before or after which the JIT is compiling the timed code ({@link #jitActivity}) is
     * therefore never counted stable, and after such a pass the loop waits for the JIT to hold
     * still ({@link #untilJitQuiet}) before the next one: one read per pass while it is quiet.
     */
    static int untilStable(Pass pass, LongSupplier clock, LongSupplier jit, long capNanos) {
        return settle(pass, clock, jit, capNanos).passes();
    }

    /** {@link #untilStable(Pass, LongSupplier, LongSupplier, long)}, saying whether the loop ended stable. */
    static Outcome settle(Pass pass, LongSupplier clock, LongSupplier jit, long capNanos) {
        double[] prev = pass.run();
        // Read before the cap's clock starts: the JVM's first read starts its platform MBean server
        // (0.25-0.45 s once per JVM on a loaded machine: measured), which is no part of settling.
        long jitBefore = jit.getAsLong();
        long start = clock.getAsLong();
        int passes = 1, stableInARow = 0;
        while (clock.getAsLong() - start < capNanos) {
            double[] t = pass.run();
            passes++;
            // one read per pass: the one after this pass is the one before the next
            long jitAfter = jit.getAsLong();
            boolean jitMoved = jitAfter != jitBefore, stable = !jitMoved;
            for (int i = 0; i < t.length; i++) stable &= t[i] < TOLERANCE * prev[i] && t[i] > prev[i] / TOLERANCE;
            stableInARow = stable ? stableInARow + 1 : 0;
            if (stableInARow == STABLE_IN_A_ROW) return new Outcome(passes, true);
            prev = t;
            // the JIT moved: wait for it to hold still rather than run passes that cannot count
            jitBefore = jitMoved ? untilJitQuiet(jitAfter, clock, jit, start, capNanos) : jitAfter;
        }
        return new Outcome(passes, false);
    }

    /** Pause between two reads of the JIT signal while it moves ({@link #untilJitQuiet}). */
    static final long POLL_NANOS = 2_000_000;

    /**
     * Waits, reading {@code jit} every {@link #POLL_NANOS}, until two reads in a row agree (no
     * compilation of the timed code running or queued at either), or until {@code capNanos} by
     * {@code clock} have passed since {@code start}; the last read. {@code last}: the read that
     * showed the JIT moving.
     *
     * <p>Why wait instead of running passes: a pass after which the JIT is compiling the timed
     * code cannot be stable, and the compilation it waits for runs on a compiler thread that the
     * passes' products (on every core) compete with. On the shared 2-core machine a C2 compile of
     * CsrMatrix's product took several 120-260 ms passes of a pruned LeNet-5's fc1, each one
     * thrown away. Nothing a pass runs changes a compilation already queued (it works from the
     * profile taken when it was queued), so the passes resume when the queue holds none.
     */
    static long untilJitQuiet(long last, LongSupplier clock, LongSupplier jit, long start, long capNanos) {
        // the poll count bounds the wait where the clock does not move (a test's scripted clock)
        for (long polls = 0; polls < Math.max(1, capNanos / POLL_NANOS) && clock.getAsLong() - start < capNanos; polls++) {
            LockSupport.parkNanos(POLL_NANOS);
            long now = jit.getAsLong();
            if (now == last) return now;
            last = now;
        }
        return last;
    }
}
