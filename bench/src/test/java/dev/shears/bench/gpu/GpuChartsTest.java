package dev.shears.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.cli.report.PngChart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The Java charts of the joined GPU results, from a hand-made gpu-bench.json in compare.py's shape. */
class GpuChartsTest {
    static final String JOINED = """
            {"device": "NVIDIA H100", "results": [
              {"op": "threshold", "scope": "single", "n": 100, "medianMs": 1.0},
              {"op": "train_step", "model": "lenet-300-100", "batch": 512, "imagesPerSec": 900000, "torch_eager_imagesPerSec": 600000},
              {"op": "train_step", "model": "lenet-300-100", "batch": 128, "imagesPerSec": 300000, "torch_eager_imagesPerSec": 200000,
               "torch_compile_error": "no triton"}],
             "sparse": {"results": [
              {"op": "gemm", "format": "dense", "shape": "square-4096", "m": 4096, "k": 4096, "n": 1, "sparsity": 0, "medianMs": 1, "speedupVsDense": 1},
              {"op": "spmm", "format": "csr", "shape": "square-4096", "m": 4096, "k": 4096, "n": 1, "sparsity": 0.95, "medianMs": 0.5, "speedupVsDense": 2},
              {"op": "spmm", "format": "csr", "shape": "square-4096", "m": 4096, "k": 4096, "n": 1, "sparsity": 0.5, "medianMs": 2, "speedupVsDense": 0.5},
              {"op": "spmm", "format": "csr", "shape": "square-1024", "m": 1024, "k": 1024, "n": 1, "sparsity": 0.5, "medianMs": 2, "speedupVsDense": 0.5},
              {"op": "spmm", "format": "blocked-ell", "shape": "square-4096", "m": 4096, "k": 4096, "n": 1, "sparsity": 0.5, "error": "not supported"}]}}
            """;

    @Test
    void trainingLinesPairShearsWithEachPyTorchModeByBatch() throws Exception {
        List<PngChart.Line> lines = GpuCharts.trainLines(new ObjectMapper().readTree(JOINED).get("results"));
        assertEquals(List.of("Shears step lenet-300-100", "torch eager step lenet-300-100"), lines.stream().map(PngChart.Line::name).toList());
        assertArrayEquals(new double[] {128, 512}, lines.get(0).x());
        assertArrayEquals(new double[] {300000, 900000}, lines.get(0).y());
        assertArrayEquals(new double[] {200000, 600000}, lines.get(1).y());
    }

    @Test
    void sparseLinesTakeOneShapeSortedBySparsityWithTheDenseLine() throws Exception {
        JsonNode sparse = new ObjectMapper().readTree(JOINED).get("sparse").get("results");
        List<PngChart.Line> lines = GpuCharts.sparseLines(sparse, "square-4096");
        assertEquals(List.of("spmm csr n=1", "cuBLAS SGEMM (1.0)"), lines.stream().map(PngChart.Line::name).toList());
        assertArrayEquals(new double[] {0.5, 0.95}, lines.get(0).x());
        assertArrayEquals(new double[] {0.5, 2}, lines.get(0).y());
        assertArrayEquals(new double[] {1, 1}, lines.get(1).y());
        assertTrue(GpuCharts.sparseLines(sparse, "square-8192").isEmpty());
    }

    @Test
    void mainWritesBothPngs(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("gpu-bench.json"), train = dir.resolve("t.png"), sparse = dir.resolve("s.png");
        Files.writeString(in, JOINED);
        GpuCharts.main(new String[] {"--in", in.toString(), "--train-png", train.toString(), "--sparse-png", sparse.toString()});
        for (Path p : List.of(train, sparse)) {
            byte[] b = Files.readAllBytes(p);
            assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', p + ": not a PNG");
        }
    }
}
