package dev.shears.core.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one owner of CPU parallelism in Shears: a fixed pool of daemon worker threads sized to the
 * machine, and parallel loops over task indices or ranges. The calling thread works too, so a
 * pool of {@code threads()} uses {@code threads() - 1} workers.
 *
 * <p>Why not a {@code ForkJoinPool}: kernels call this thousands of times a second with tasks of
 * 50-500 microseconds, so the hand-off latency matters; workers spin briefly before parking, and
 * a loop that finds the pool busy (another thread's loop, or a loop nested inside a task) simply
 * runs sequentially on its caller instead of queueing, so nesting can never deadlock.
 *
 * <p>The thread count is {@code Runtime.availableProcessors()}, overridable with the system
 * property {@code shears.threads} (1 = everything sequential, useful for debugging and timing).
 */
public final class Parallel {
    private Parallel() {}

    /** A task body over the index range [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** A task body for one task index. */
    @FunctionalInterface
    public interface TaskBody {
        void run(int task);
    }

    private static final int THREADS = configuredThreads();
    /**
     * How long a worker (or the caller) spins waiting before parking: long enough to catch the
     * next GEMM of a training step, short enough not to burn a shared core while idle.
     */
    private static final long SPIN_NANOS = 100_000;

    private static final ReentrantLock BUSY = new ReentrantLock();
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private static final Worker[] WORKERS = startWorkers();

    /** Number of threads a parallel loop may use (workers plus the caller). */
    public static int threads() { return THREADS; }

    /**
     * Runs {@code body.run(t)} once for every t in [0, tasks), in parallel where the pool is free.
     * Tasks are claimed dynamically, so uneven tasks balance. The first exception thrown by a task
     * is rethrown here after all tasks have stopped.
     */
    public static void forTasks(int tasks, TaskBody body) {
        if (tasks <= 0) return;
        if (tasks == 1 || THREADS == 1 || INSIDE.get() || !BUSY.tryLock()) {
            for (int t = 0; t < tasks; t++) body.run(t);
            return;
        }
        try {
            Job job = new Job(tasks, body);
            int helpers = Math.min(WORKERS.length, tasks - 1);
            for (int w = 0; w < helpers; w++) WORKERS[w].post(job);
            INSIDE.set(Boolean.TRUE);
            try {
                job.work();
            } finally {
                INSIDE.set(Boolean.FALSE);
            }
            job.awaitDone();
            Throwable err = job.error.get();
            if (err instanceof RuntimeException re) throw re;
            if (err instanceof Error e) throw e;
            if (err != null) throw new IllegalStateException("parallel task failed", err);
        } finally {
            BUSY.unlock();
        }
    }

    /**
     * Splits [0, n) into at most {@link #threads()} contiguous ranges of at least {@code grain}
     * indices (the last may be shorter) and runs them in parallel.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int g = Math.max(1, grain);
        int chunks = (int) Math.min(THREADS, Math.max(1, (long) n / g));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        forTasks(chunks, t -> {
            int s = (int) ((long) n * t / chunks);
            int e = (int) ((long) n * (t + 1) / chunks);
            if (s < e) body.run(s, e);
        });
    }

    /** One parallel loop: tasks are claimed with {@code next}, completion counted in {@code done}. */
    private static final class Job {
        final int tasks;
        final TaskBody body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final Thread owner = Thread.currentThread();

        Job(int tasks, TaskBody body) {
            this.tasks = tasks;
            this.body = body;
        }

        void work() {
            int t;
            while ((t = next.getAndIncrement()) < tasks) {
                try {
                    if (error.get() == null) body.run(t);
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                } finally {
                    if (done.incrementAndGet() == tasks) LockSupport.unpark(owner);
                }
            }
        }

        void awaitDone() {
            long start = System.nanoTime();
            while (done.get() < tasks) {
                if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 50_000);
            }
        }
    }

    private static final class Worker extends Thread {
        private final AtomicReference<Job> slot = new AtomicReference<>();

        Worker(int index) {
            super("shears-cpu-" + index);
            setDaemon(true);
        }

        void post(Job j) {
            slot.set(j);
            LockSupport.unpark(this);
        }

        @Override public void run() {
            INSIDE.set(Boolean.TRUE);
            while (true) {
                Job j = slot.getAndSet(null);
                long start = System.nanoTime();
                while (j == null) {
                    if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                    else LockSupport.park(this);
                    j = slot.getAndSet(null);
                }
                j.work();
            }
        }
    }

    private static int configuredThreads() {
        String p = System.getProperty("shears.threads");
        if (p != null) {
            try {
                int t = Integer.parseInt(p.trim());
                if (t >= 1) return t;
            } catch (NumberFormatException ignored) {
                // fall through to the message below
            }
            // thrown from a static initialiser this would surface as an ExceptionInInitializerError: warn and go on
            System.err.println("shears: ignoring -Dshears.threads=" + p + " (not a positive integer); using all "
                    + Runtime.getRuntime().availableProcessors() + " processors");
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    private static Worker[] startWorkers() {
        Worker[] w = new Worker[THREADS - 1];
        for (int i = 0; i < w.length; i++) {
            w[i] = new Worker(i + 1);
            w[i].start();
        }
        return w;
    }
}
