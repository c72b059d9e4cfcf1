package dev.shears.core.sparse;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SparsePlannerTest {

    @Test void aDenseMatrixStaysDense() {
        float[] a = SparseBench.randomSparse(40, 30, 0.0, 1);
        SparsePlanner.Choice c = new SparsePlanner(SparsePlanner.Options.quick()).choose(a, 40, 30, 4, true);
        assertInstanceOf(DenseMatrix.class, c.matrix());
        assertEquals(1, c.timings().size(), "no sparse candidate for a matrix without zeros");
    }

    @Test void theChoiceIsTheFastestAndComputesTheSameProduct() {
        int rows = 256, cols = 300;
        float[] a = SparseBench.prune24(SparseBench.randomSparse(rows, cols, 0.0, 2), rows, cols); // 2:4 valid
        SparsePlanner planner = new SparsePlanner(SparsePlanner.Options.quick());
        SparsePlanner.Choice c = planner.choose(a, rows, cols, 8, true);
        List<String> names = c.timings().stream().map(SparsePlanner.Timing::format).toList();
        assertEquals("dense", names.getFirst());
        assertTrue(names.contains("csr") && names.contains("2:4"), "candidates: " + names);
        double denseMs = c.denseMs();
        for (SparsePlanner.Timing t : c.timings())
            if (!t.format().equals("dense")) assertTrue(c.chosenMs() <= t.medianMs() || c.format().equals("dense"), "chose " + c.format() + " over faster " + t);
        assertTrue(c.chosenMs() <= denseMs, "chosen " + c.chosenMs() + " ms slower than dense " + denseMs + " ms");
        float[] x = SparseBench.randomSparse(8, cols, 0.0, 3);
        float[] want = new float[8 * rows], got = new float[8 * rows];
        new DenseMatrix(a, rows, cols).multiply(x, 8, want);
        c.matrix().multiply(x, 8, got);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])));
    }

    @Test void planLinearComputesXWPlusB() {
        int in = 50, out = 20, batch = 3;
        float[] w = SparseBench.randomSparse(in, out, 0.8, 4); // [in, out]
        float[] bias = SparseBench.randomSparse(1, out, 0.0, 5);
        SparseLinear sl = new SparsePlanner(SparsePlanner.Options.quick()).planLinear("fc", w, in, out, bias, batch);
        float[] x = SparseBench.randomSparse(batch, in, 0.3, 6);
        float[] y = sl.forward(x, batch);
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int i = 0; i < in; i++) s += (double) x[b * in + i] * w[i * out + o];
                assertEquals(s, y[b * out + o], 1e-4, "y[" + b + ", " + o + "] with " + sl.format());
            }
        assertArrayEquals(SparseMatrix.fromDenseKernel(w, in, out), sl.weights().toDense());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sl.forward(new float[10], batch, new float[60]));
        assertTrue(e.getMessage().startsWith("fc: batch 3 needs x of 150"), e.getMessage());
    }

    @Test void medianIsTheMiddleTime() {
        int[] calls = {0};
        double ms = SparsePlanner.medianMillis(() -> calls[0]++, 2, 5, 0);
        assertEquals(7, calls[0]);
        assertTrue(ms >= 0);
    }

    /**
     * With scripted times (label -> ms) the planner picks the fastest candidate, not merely one
     * faster than dense: kills a planner that keeps the last candidate beating dense by the margin.
     */
    @Test void theFastestScriptedCandidateWinsNotTheLastOneBeatingDense() {
        int rows = 64, cols = 64;
        float[] a = SparseBench.prune24(SparseBench.randomSparse(rows, cols, 0.0, 7), rows, cols); // csr, blocked-ell-4?, 2:4
        Map<String, Double> script = Map.of("dense", 10.0, "csr", 5.0, "blocked-ell-4", 8.0, "2:4", 7.0);
        SparsePlanner.Choice c = scripted(script).choose(a, rows, cols, 4, true);
        assertEquals("2:4", c.timings().getLast().format(), "2:4 is the last candidate: " + c.timings());
        assertEquals("csr", c.format(), "csr at 5 ms is fastest: " + c.timings());
        assertInstanceOf(CsrMatrix.class, c.matrix());
        assertEquals(2.0, c.speedupVsDense(), 1e-12);
    }

    /** A candidate must beat dense by the margin (5% in quick options); equal times keep the earlier one. */
    @Test void theMarginAndTiesKeepTheEarlierChoice() {
        int rows = 64, cols = 64;
        float[] a = SparseBench.prune24(SparseBench.randomSparse(rows, cols, 0.0, 8), rows, cols);
        SparsePlanner.Choice notEnough = scripted(Map.of("dense", 10.0, "csr", 9.6, "blocked-ell-4", 9.7, "2:4", 9.51)).choose(a, rows, cols, 4, true);
        assertEquals("dense", notEnough.format(), "4.9% faster is within the 5% margin: " + notEnough.timings());
        SparsePlanner.Choice tie = scripted(Map.of("dense", 10.0, "csr", 6.0, "blocked-ell-4", 6.0, "2:4", 6.0)).choose(a, rows, cols, 4, true);
        assertEquals("csr", tie.format(), "a tie keeps the first candidate: " + tie.timings());
    }

    private static SparsePlanner scripted(Map<String, Double> msByLabel) {
        SparsePlanner.Timer timer = (candidates, x, y, n, batchMajor) -> {
            double[] ms = new double[candidates.size()];
            for (int i = 0; i < ms.length; i++) {
                String label = SparsePlanner.label(candidates.get(i));
                Double t = msByLabel.get(label);
                if (t == null) throw new AssertionError("no scripted time for candidate " + label);
                ms[i] = t;
            }
            return ms;
        };
        return new SparsePlanner(SparsePlanner.Options.quick(), new Settle(() -> 0L, 1_000, 10_000), timer);
    }
}
