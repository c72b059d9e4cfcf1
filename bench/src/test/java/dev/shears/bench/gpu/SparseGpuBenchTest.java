package dev.shears.bench.gpu;

import dev.shears.core.cuda.sparse.CudaShapeSweep;
import dev.shears.core.sparse.BlockedEllMatrix;
import dev.shears.core.sparse.CsrMatrix;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The GPU sparse sweep's CPU side: arguments, the plan of shapes, and the matrices it generates. */
class SparseGpuBenchTest {

    @Test
    void parsesArgumentsAndOverridesThePlan() {
        SparseGpuBench.Options o = SparseGpuBench.Options.parse("--out", "s.json", "--reps", "5", "--sizes", "512, 2048",
                "--batches", "1,32", "--sparsities", "0.6,0.97");
        assertEquals(Path.of("s.json"), o.out());
        assertEquals(5, o.reps());
        SparseSweepPlan p = o.plan();
        assertEquals(List.of(1, 32), p.batches());
        assertEquals(List.of(0.6, 0.97), p.sparsities());
        assertEquals(List.of("square-512", "square-2048"), p.shapes().stream().map(CudaShapeSweep.WeightShape::name).limit(2).toList());
        assertEquals(SparseSweepPlan.standard(false), SparseGpuBench.Options.parse("--out", "x").plan());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SparseGpuBench.Options.parse("--reps", "2")).getMessage().contains("--out"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SparseGpuBench.Options.parse("--out", "x", "--sizes", "1k"))
                .getMessage().contains("'1k'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SparseGpuBench.Options.parse("--out", "x", "--sparsities", "0.9,1.0").plan())
                .getMessage().contains("sparsity 1.0"));
        assertThrows(IllegalArgumentException.class, () -> SparseGpuBench.Options.parse("--out", "x", "--reps", "0"));
        // --lt replaces the 2:4 products (each in both 16-bit types), 'none' drops them; the rest of the plan stays
        SparseSweepPlan lt = SparseGpuBench.Options.parse("--out", "x", "--quick", "--lt", "64x32x128").plan();
        assertEquals(List.of(new CudaShapeSweep.LtCase(64, 32, 128, "fp16"), new CudaShapeSweep.LtCase(64, 32, 128, "bf16")), lt.lt());
        assertEquals(SparseSweepPlan.standard(true).shapes(), lt.shapes());
        assertEquals(List.of(), SparseGpuBench.Options.parse("--out", "x", "--lt", "none").plan().lt());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SparseGpuBench.Options.parse("--out", "x", "--lt", "64x64"))
                .getMessage().contains("MxNxK"));
    }

    @Test
    void theStandardPlanCoversTheIssuesShapesAndTargets() {
        SparseSweepPlan p = SparseSweepPlan.standard(false);
        List<String> names = p.shapes().stream().map(CudaShapeSweep.WeightShape::name).toList();
        assertTrue(names.containsAll(List.of("square-1024", "square-2048", "square-4096", "square-8192")), names.toString());
        // LeNet-300-100's three layers as W[out, in], from the built-in architecture itself
        List<CudaShapeSweep.WeightShape> lenet = p.shapes().stream().filter(s -> s.name().startsWith("lenet-300-100.")).toList();
        assertEquals(List.of(List.of(300, 784), List.of(100, 300), List.of(10, 100)), lenet.stream().map(s -> List.of(s.m(), s.k())).toList());
        assertTrue(p.shapes().stream().anyMatch(s -> s.name().startsWith("mnist-cnn.") && s.m() == 128 && s.k() == 9216));
        assertTrue(p.shapes().stream().anyMatch(s -> s.name().equals("vgg19.classifier.0") && s.m() == 4096 && s.k() == 25088));
        assertEquals(List.of(1, 16, 64, 256), p.batches());
        assertEquals(0.5, p.sparsities().getFirst());
        assertEquals(0.99, p.sparsities().getLast());
        assertTrue(p.sparsities().contains(0.95), "issue 6's batch-1 target is at 95%");
        assertTrue(p.lt().contains(new CudaShapeSweep.LtCase(8192, 8192, 8192, "fp16")));
        assertTrue(p.lt().contains(new CudaShapeSweep.LtCase(8192, 8192, 8192, "bf16")));
        // Blocked-ELL only where 16 divides both sides
        assertTrue(p.bellApplies(new CudaShapeSweep.WeightShape("x", 4096, 25088)));
        assertFalse(p.bellApplies(new CudaShapeSweep.WeightShape("x", 300, 784)));
        SparseSweepPlan q = SparseSweepPlan.standard(true);
        assertTrue(q.timings() < p.timings() / 4, q.timings() + " vs " + p.timings());
        assertTrue(q.shapes().stream().noneMatch(s -> s.name().startsWith("vgg19")));
    }

    @Test
    void countsEveryTiming() {
        SparseSweepPlan p = new SparseSweepPlan(List.of(new CudaShapeSweep.WeightShape("a", 32, 32), new CudaShapeSweep.WeightShape("b", 10, 20)),
                List.of(1, 8), List.of(0.5, 0.9), 16, List.of(new CudaShapeSweep.LtCase(64, 64, 64, "fp16")));
        // a: per batch 2 dense + per sparsity (csr + bell [+ spmv at n=1]) -> n=1: 2 + 2*3, n=8: 2 + 2*2; b: no bell -> 2 + 2*2, 2 + 2*1
        assertEquals(8 + 6 + 6 + 4 + 2, p.timings());
    }

    @Test
    void generatedMatricesHaveTheirSparsityAndConvertExactly() {
        float[] u = CudaShapeSweep.unstructured(256, 512, 0.9, 7);
        CsrMatrix csr = CsrMatrix.fromDense(u, 256, 512);
        assertEquals(0.9, csr.sparsity(), 0.01, "uniform random at 90%");
        assertArrayEquals(u, csr.toDense());
        assertArrayEquals(u, CudaShapeSweep.unstructured(256, 512, 0.9, 7), "seeded");

        float[] b = CudaShapeSweep.blockSparse(64, 256, 0.75, 16, 3);
        BlockedEllMatrix bell = BlockedEllMatrix.fromDense(b, 64, 256, 16);
        assertEquals(4, bell.ellBlocks(), "round(0.25 * 16) blocks kept in every block row");
        assertEquals(0.75, bell.sparsity(), 1e-12, "kept blocks are full, so the sparsity is exact");
        assertTrue(java.util.Arrays.stream(bell.blockColumns()).allMatch(c -> c >= 0), "no padding slots");
        assertArrayEquals(b, bell.toDense());
        assertEquals(1, BlockedEllMatrix.fromDense(CudaShapeSweep.blockSparse(32, 64, 0.99, 16, 3), 32, 64, 16).ellBlocks(),
                "at least one block per row");
    }

    @Test
    void relativeErrorIsAgainstTheLargestReferenceValue() {
        assertEquals(0.01, CudaShapeSweep.relErr(new float[] {1, 2.02f, 0}, new float[] {1, 2, 0}), 1e-6);
        assertEquals(0, CudaShapeSweep.relErr(new float[] {0}, new float[] {0}));
    }

    @Test
    void summarisesARowOrItsError() {
        java.util.Map<String, Object> r = new java.util.LinkedHashMap<>(java.util.Map.of("op", "spmm", "format", "csr", "shape", "square-4096",
                "n", 1, "sparsity", 0.95, "medianMs", 0.0123, "speedupVsDense", 2.1, "maxRelErr", 3e-7));
        assertEquals("spmm csr square-4096 n=1 sparsity 0.95: 0.0123 ms, 2.10x dense, max rel err 3.0e-07", SparseGpuBench.summary(r));
        r.put("error", "CudaException: cusparseSpMM failed");
        assertTrue(SparseGpuBench.summary(r).endsWith("ERROR CudaException: cusparseSpMM failed"));
    }

    @Test
    void withoutCudaTheReasonIsGiven() {
        String cause = SparseGpuBench.unavailabilityCause();
        if (dev.shears.nativebind.Cuda.isAvailable()) return;
        assertNotNull(cause);
        assertTrue(cause.contains("libcuda"), cause);
    }
}
