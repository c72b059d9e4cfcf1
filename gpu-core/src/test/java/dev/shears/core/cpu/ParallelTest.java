package dev.shears.core.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelTest {

    @Test void everyTaskRunsExactlyOnce() {
        for (int tasks : new int[]{1, 2, 3, 17, 1000}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(tasks);
            for (int round = 0; round < 50; round++) Parallel.forTasks(tasks, hits::incrementAndGet);
            for (int t = 0; t < tasks; t++) assertEquals(50, hits.get(t), "task " + t + " of " + tasks);
        }
    }

    @Test void rangesCoverWithoutOverlap() {
        for (int n : new int[]{1, 5, 64, 1001}) {
            for (int grain : new int[]{1, 16, 5000}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Parallel.forRange(n, grain, (s, e) -> {
                    assertTrue(s < e, "empty range " + s + ".." + e);
                    for (int i = s; i < e; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "index " + i + " of n=" + n + " grain=" + grain);
            }
        }
    }

    @Test void nestedLoopsRunAndDoNotDeadlock() {
        AtomicInteger total = new AtomicInteger();
        Parallel.forTasks(4, t -> Parallel.forTasks(5, u -> total.incrementAndGet()));
        assertEquals(20, total.get());
    }

    @Test void concurrentCallersAllComplete() throws InterruptedException {
        AtomicInteger total = new AtomicInteger();
        Thread[] ts = new Thread[4];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = new Thread(() -> {
                for (int r = 0; r < 200; r++) Parallel.forTasks(3, t -> total.incrementAndGet());
            });
            ts[i].start();
        }
        for (Thread t : ts) t.join();
        assertEquals(4 * 200 * 3, total.get());
    }

    @Test void taskExceptionReachesTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom in task 3");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forTasks(8, t -> {
            if (t == 3) throw boom;
        }));
        assertSame(boom, e);
        // the pool still works afterwards
        AtomicInteger n = new AtomicInteger();
        Parallel.forTasks(8, t -> n.incrementAndGet());
        assertEquals(8, n.get());
    }

    @Test void threadsIsPositive() {
        assertTrue(Parallel.threads() >= 1);
    }
}
