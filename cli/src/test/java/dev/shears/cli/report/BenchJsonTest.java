package dev.shears.cli.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The benchmark results' JSON writer: layout, numbers, escaping, and that its text is valid JSON. */
class BenchJsonTest {

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    @Test
    void scalarContainersSitOnOneLineOthersBreakOneChildALine() {
        Map<String, Object> doc = map("device", "cpu: x", "n", 3,
                "results", List.of(map("op", "spmm", "m", 64, "ok", true), map("op", "gemm", "m", 8, "ok", false)),
                "dims", List.of(new long[] {64, 3, 7, 7}, new int[] {1}), "empty", List.of(), "none", map());
        assertEquals("""
                {
                  "device": "cpu: x",
                  "n": 3,
                  "results": [
                    {"op": "spmm", "m": 64, "ok": true},
                    {"op": "gemm", "m": 8, "ok": false}
                  ],
                  "dims": [
                    [64, 3, 7, 7],
                    [1]
                  ],
                  "empty": [],
                  "none": {}
                }
                """, BenchJson.write(doc));
    }

    @Test
    void fixedRoundsExactlyAsFormatDoesAndKeepsTrailingZeros() {
        assertEquals("0.5000", BenchJson.fixed(0.5, 4).toPlainString());
        assertEquals("{\"a\": 0.5000, \"b\": 2.0, \"c\": null}\n",
                BenchJson.write(map("a", BenchJson.fixed(0.5, 4), "b", BenchJson.fixed(1.95, 1), "c", BenchJson.fixed(Double.NaN, 3))));
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            double v = Math.pow(10, r.nextDouble(-6, 10)) * (r.nextBoolean() ? 1 : -1);
            int places = r.nextInt(0, 7);
            String expected = String.format(Locale.ROOT, "%." + places + "f", v);
            if (expected.matches("-0\\.?0*")) expected = expected.substring(1); // a JSON number has no negative zero worth keeping
            assertEquals(expected, BenchJson.fixed(v, places).toPlainString(), v + " to " + places);
        }
    }

    @Test
    void doublesInFullOrToSignificantDigitsAndNonFiniteAsNull() {
        Map<String, Object> m = map("a", 0.1, "b", 1e-5, "c", Double.NaN, "d", Double.POSITIVE_INFINITY, "e", 2.5f, "f", 123456789L);
        assertEquals("{\"a\": 0.1, \"b\": 1.0E-5, \"c\": null, \"d\": null, \"e\": 2.5, \"f\": 123456789}\n", BenchJson.write(m));
        assertEquals("{\"a\": 0.100000, \"b\": 1.00000e-05, \"c\": null, \"d\": null, \"e\": 2.50000, \"f\": 123456789}\n", BenchJson.write(m, 6));
        assertEquals("[1.0, 0.25]\n", BenchJson.write(new double[] {1, 0.25}));
        assertThrows(IllegalArgumentException.class, () -> BenchJson.write(m, -1));
    }

    @Test
    void escapesStringsAndKeysAndReadsBackAsTheSameTree() throws Exception {
        List<Object> rows = new ArrayList<>();
        rows.add(map("name", "quote \" back \\ tab \t newline \n bell \u0007 é", "x", null));
        Map<String, Object> doc = map("k\"ey", rows, "nested", map("deeper", map("v", List.of(1, 2))));
        String text = BenchJson.write(doc);
        assertEquals(new ObjectMapper().readTree(new ObjectMapper().writeValueAsString(doc)), new ObjectMapper().readTree(text), text);
    }
}
