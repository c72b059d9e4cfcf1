package dev.shears.core.sparse;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SparseBenchTest {

    @Test void sweepHasARowPerFormatSparsityAndBatch() {
        List<SparseBench.Row> rows = SparseBench.sweep(64, 48, new double[]{0.5, 0.9}, new int[]{1, 5}, 1,
                new SparsePlanner.Options(0, 1, 0, new int[]{4}, 100.0, 0.05));
        // per (sparsity, batch): dense, csr, blocked-ell-4; plus 2:4 at 0.5
        assertEquals(2 * 2 * 3 + 2, rows.size());
        for (SparseBench.Row r : rows) {
            assertEquals(64, r.m());
            assertEquals(48, r.k());
            assertEquals(r.n() == 1 ? "spmv" : "spmm", r.op());
            assertTrue(r.medianMs() > 0, r.toString());
            if (r.format().equals("dense")) assertEquals(1.0, r.speedupVsDense());
        }
        SparseBench.Row csr = rows.stream().filter(r -> r.format().equals("csr") && r.sparsity() > 0.8 && r.n() == 5).findFirst().orElseThrow();
        assertEquals(0.9, csr.sparsity(), 1.0 / (64 * 48));
        SparseBench.Row nm = rows.stream().filter(r -> r.format().equals("2:4")).findFirst().orElseThrow();
        assertEquals(0.5, nm.sparsity(), 1e-12);
    }

    /**
     * The first (sparsity, batch) of a sweep is not timed cold: the same matrix swept twice gives
     * dense times of one magnitude. Before the untimed pass a 512x512 sweep's first dense GEMV took
     * 0.7-13 ms and the second 0.014 ms (the small-matrix warm-up never reaches the multi-threaded
     * GEMM). In a JVM where other tests already ran that path this cannot fail; alone it did.
     */
    @Test void theFirstRowsOfASweepAreTimedWarm() {
        List<SparseBench.Row> rows = SparseBench.sweep(512, 512, new double[]{0.5, 0.5}, new int[]{1}, 1,
                new SparsePlanner.Options(3, 7, 20, new int[]{}, 2.0, 0.05));
        List<SparseBench.Row> dense = rows.stream().filter(r -> r.format().equals("dense")).toList();
        assertEquals(2, dense.size());
        double first = dense.get(0).medianMs(), second = dense.get(1).medianMs();
        // a factor of 10 leaves room for a busy shared machine; the cold first row was 50-900x slower
        assertTrue(first < 10 * second, "first " + first + " ms, second " + second + " ms");
    }

    @Test void randomSparseHasExactlyTheZerosAsked() {
        float[] a = SparseBench.randomSparse(30, 31, 0.9, 3);
        int zeros = 0;
        for (float v : a) if (v == 0f) zeros++;
        assertEquals(Math.round(0.9 * 30 * 31), zeros);
    }

    @Test void shapesAndBadArgumentsAreReported() {
        assertArrayEquals(new int[]{4096, 1024}, SparseBench.parseShape("4096x1024"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SparseBench.parseShape("4096"));
        assertEquals("--shape must be MxK with positive integers (e.g. 4096x4096), got '4096'", e.getMessage());
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class,
                () -> SparseBench.sweep(8, 8, new double[]{1.0}, new int[]{1}, 1, SparsePlanner.Options.quick()));
        assertEquals("bench sparse: sparsity must be in [0, 1), got 1.0", s.getMessage());
    }
}
