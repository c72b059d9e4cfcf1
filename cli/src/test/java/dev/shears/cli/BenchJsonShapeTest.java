package dev.shears.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.cli.report.BenchJson;
import dev.shears.core.sparse.SparseBench;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code shears bench --json} keeps DESIGN.md's shape, and its figures, now that the shared
 * {@link BenchJson} writes it: the text of the former writer (SparseBench.toJson, reproduced
 * below as the golden reference) and the new one parse to the same tree, and every result row
 * reads the same to the letter.
 */
class BenchJsonShapeTest {

    /** SparseBench.toJson as it was before the writers were consolidated. */
    private static String former(String device, List<SparseBench.Row> rows) {
        StringBuilder sb = new StringBuilder("{\"device\": \"").append(device.replace("\\", "\\\\").replace("\"", "\\\"")).append("\", \"results\": [");
        for (int i = 0; i < rows.size(); i++) {
            SparseBench.Row r = rows.get(i);
            sb.append(i == 0 ? "\n  " : ",\n  ").append(String.format(Locale.ROOT,
                    "{\"op\": \"%s\", \"format\": \"%s\", \"m\": %d, \"k\": %d, \"n\": %d, \"sparsity\": %.4f, \"medianMs\": %.5f, \"speedupVsDense\": %.3f}",
                    r.op(), r.format(), r.m(), r.k(), r.n(), r.sparsity(), r.medianMs(), r.speedupVsDense()));
        }
        return sb.append("\n]}\n").toString();
    }

    private static List<String> rowLines(String json) {
        return Arrays.stream(json.split("\n")).map(String::trim).filter(l -> l.startsWith("{\"op\"")).map(l -> l.replaceAll(",$", "")).toList();
    }

    @Test
    void sameTreeAndSameRowsAsTheFormerWriter() throws Exception {
        List<SparseBench.Row> rows = List.of(
                new SparseBench.Row("spmv", "dense", 64, 48, 1, 0.5, 0.0123456789, 1.0),
                new SparseBench.Row("spmv", "csr", 64, 48, 1, 0.89990234375, 0.004, 3.0864197),
                new SparseBench.Row("spmm", "blocked-ell-4", 4096, 4096, 64, 0.95, 12.3456, 0.99949),
                new SparseBench.Row("fc1", "2:4 (chosen)", 300, 784, 8, 0.5, 1e-6, 1234.5678));
        String device = "cpu: AMD EPYC \"Genoa\" (2 threads, 512-bit vectors)";
        String before = former(device, rows), after = BenchJson.write(BenchCommand.json(device, rows));
        ObjectMapper m = new ObjectMapper();
        assertEquals(m.readTree(before), m.readTree(after), after);
        assertEquals(rowLines(before), rowLines(after));
        assertEquals(rows.size(), rowLines(after).size());
        List<String> keys = new java.util.ArrayList<>();
        m.readTree(after).fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("device", "results"), keys);
    }
}
