package dev.shears.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.cli.report.BenchJson;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The JMH runner's result files keep their exact text now that {@link BenchJson} writes them: each
 * committed {@code bench/results/cpu-*.json} (written by the runner's former private writer) is
 * read back and rewritten byte for byte, layout and {@code %.6g} figures included.
 */
class RunBenchmarksJsonTest {

    @Test
    void rewritesEveryCommittedResultFileByteForByte() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of("results"))) {
            files = s.filter(p -> p.getFileName().toString().matches("cpu-.*\\.json")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "bench/results/cpu-*.json: the golden files are missing");
        for (Path f : files) {
            String text = Files.readString(f);
            Object tree = new ObjectMapper().readValue(text, Object.class);
            assertEquals(text, BenchJson.write(tree, RunBenchmarks.SIGNIFICANT_DIGITS), f.toString());
        }
    }
}
