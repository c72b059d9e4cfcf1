package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.cuda.GpuTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code shears bench sparse --shape MxK --backend cuda}: gpu-core's CudaShapeSweep of one shape
 * through the command, printed, written as JSON and charted as the CPU sweep is. Every format the
 * GPU has must give a row for every sparsity and batch, each checked against cuBLAS (a mismatch
 * would make the exit status 1).
 */
class CudaShapeBenchIT {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;

    @Test void aShapeSweepsEveryGpuFormatAndWritesTheTableJsonAndChart() throws Exception {
        GpuTestSupport.assumeCuda();
        Path json = dir.resolve("gpu.json");
        CliRun b = CliRun.shears("bench", "sparse", "--shape", "64x64", "--sparsity", "0.5,0.9", "--batch", "1,8", "--backend", "cuda",
                "--precision", "fp16", "--quick", "--json", json.toString());
        assertEquals(0, b.code(), b.out() + b.err());
        JsonNode doc = JSON.readTree(json.toFile());
        assertTrue(!doc.get("device").asText().startsWith("cpu") && !doc.get("device").asText().isEmpty(), "timed on the GPU: " + doc.get("device"));
        Set<String> seen = new HashSet<>();
        for (JsonNode r : doc.get("results")) {
            String format = r.get("format").asText();
            int n = r.get("n").asInt();
            seen.add(r.get("op").asText() + " " + format + " " + n + " " + r.get("sparsity").asDouble());
            assertEquals(64, r.get("m").asInt(), r.toString());
            assertEquals(64, r.get("k").asInt(), r.toString());
            assertTrue(n == 1 || n == 8, r.toString());
            double ms = r.get("medianMs").asDouble(), speedup = r.get("speedupVsDense").asDouble();
            assertTrue(ms > 0 && Double.isFinite(ms) && speedup > 0 && Double.isFinite(speedup), r.toString());
            if (format.equals("dense") || format.equals("dense-fp16")) assertEquals(1.0, speedup, 1e-9, "a baseline is its own speed-up: " + r);
        }
        for (int n : new int[] {1, 8}) {
            for (String f : List.of("gemm dense", "gemm dense-tf32")) assertTrue(seen.contains(f + " " + n + " 0.0"), f + " n=" + n + ": " + seen);
            for (String s : List.of("0.5", "0.9"))
                for (String f : List.of("spmm csr", "spmm blocked-ell-16"))
                    assertTrue(seen.contains(f + " " + n + " " + s), f + " n=" + n + " sparsity " + s + ": " + seen);
        }
        assertTrue(seen.contains("spmv csr 1 0.5") && seen.contains("spmv csr 1 0.9"), "SpMV at batch 1: " + seen);
        // cuSPARSELt's dense operands are padded to 8 columns, as eval --sparse pads them: batches 1 and 8 are one pair at n = 8
        assertTrue(seen.contains("gemm dense-fp16 8 0.0") && seen.contains("spmm 2:4-fp16 8 0.5"), "2:4 at n=8: " + seen);
        assertEquals(2 * 2 + 2 * 2 * 2 + 2 + 2, doc.get("results").size(), "no other rows: " + seen);
        byte[] png = Files.readAllBytes(dir.resolve("gpu.png"));
        assertTrue(png.length > 100 && png[0] == (byte) 0x89 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a PNG chart beside the JSON");
        for (String f : List.of("dense-tf32", "csr", "blocked-ell-16", "2:4-fp16", "speedup")) assertTrue(b.out().contains(f), f + " in the table:\n" + b.out());
    }

    @Test void bf16AddsItsTwoFourRowsOnAShapeThatIsNotSquare() {
        GpuTestSupport.assumeCuda();
        CliRun b = CliRun.shears("bench", "sparse", "--shape", "32x64", "--sparsity", "0.9", "--batch", "8", "--backend", "cuda",
                "--precision", "bf16", "--quick");
        assertEquals(0, b.code(), b.out() + b.err());
        for (String f : List.of("dense-bf16", "2:4-bf16", "blocked-ell-16", "csr")) assertTrue(b.out().contains(f), f + " in the table:\n" + b.out());
    }

    @Test void twoFourNeedsMultiplesOfSixteen() {
        GpuTestSupport.assumeCuda();
        CliRun b = CliRun.shears("bench", "sparse", "--shape", "30x64", "--batch", "8", "--backend", "cuda", "--precision", "fp16");
        assertEquals(2, b.code(), b.err());
        assertTrue(b.err().contains("--shape 30x64") && b.err().contains("multiples of 16") && b.err().contains("32x64"), b.err());
    }

    @Test void aShapeTooBigForTheGpuIsRefusedNamingTheShapeAndBytes() {
        GpuTestSupport.assumeCuda();
        // 1.6e9 floats: one Java array holds them, no GPU of today holds the matrix, its CSR form and the rest
        CliRun b = CliRun.shears("bench", "sparse", "--shape", "40000x40000", "--sparsity", "0.5", "--batch", "1", "--backend", "cuda");
        assertEquals(2, b.code(), b.err());
        assertTrue(b.err().contains("--shape 40000x40000") && b.err().contains("bytes") && b.err().contains("free of"), b.err());
    }
}
