package dev.shears.core.cuda;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cuda.sparse.CudaSparseModel;
import dev.shears.core.cuda.sparse.CudaSparsePlanner;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.sparse.SparsePlanner;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPU sparse inference ({@link CudaSparseModel}) on pruned LeNet-300-100 and LeNet-5: with every
 * format forced in turn (cuBLAS dense, cuSPARSE CSR with each SpMM algorithm and SpMV, Blocked-ELL)
 * and as timed, the outputs equal the dense model's on the same device and the CPU
 * {@link SparseModel}'s; the plan names the forced format wherever it applies; closing the
 * sparse model returns every byte it allocated.
 *
 * <p>Tolerance 1e-4 + 1e-4 relative on the logits: the formats sum a row's products in different
 * orders (cuSPARSE's is unspecified, cuBLAS's too), float32 rounding ~1e-7 each over at most 784
 * terms; a wrong index or transposed operand moves a logit by O(0.1).
 */
class CudaSparseModelIT {
    private static final Shape INPUT = Shape.of(1, 28, 28);

    /** Zeroes the smallest-magnitude fraction of every kernel (what magnitude pruning leaves). */
    static void prune(Model m, double sparsity) {
        for (Parameter p : m.parameters()) {
            if (p.role() != Parameter.Role.KERNEL) continue;
            float[] w = m.backend().download(p.value());
            float[] mags = new float[w.length];
            for (int i = 0; i < w.length; i++) mags[i] = Math.abs(w[i]);
            Arrays.sort(mags);
            float cut = mags[(int) (sparsity * (w.length - 1))];
            for (int i = 0; i < w.length; i++) if (Math.abs(w[i]) <= cut) w[i] = 0f;
            m.backend().write(w, 0, p.value(), 0, w.length);
        }
    }

    private static float[] input(int batch) {
        SplittableRandom rng = new SplittableRandom(9);
        float[] xs = new float[batch * (int) INPUT.size()];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextDouble();
        return xs;
    }

    /** Plans {@code arch} on both backends with each forcing and compares the logits. */
    private static void checkFormats(String arch, double sparsity, int batch, CudaSparsePlanner.Options base, List<String> forcings) {
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            CpuBackend cpu = new CpuBackend(2);
            Model mc = Architectures.create(arch, INPUT, 10).bind(cpu, 7);
            Model mg = Architectures.create(arch, INPUT, 10).bind(gpu, 7);
            prune(mc, sparsity);
            prune(mg, sparsity);
            float[] xs = input(batch);
            Shape shape = Shape.of(batch, 1, 28, 28);
            Tensor xc = cpu.upload(xs, shape);
            float[] cpuSparse = cpu.download(SparseModel.plan(mc, batch, new SparsePlanner(SparsePlanner.Options.quick())).forward(xc));
            try (Tensor xg = gpu.upload(xs, shape)) {
                float[] dense = gpu.download(mg.forward(ExecContext.inference(gpu), xg));
                Parity.assertClose(arch + ": dense on the GPU against the CPU sparse model", cpuSparse, dense, 1e-4, 1e-4);
                for (String force : forcings) {
                    CudaSparsePlanner.Options o = force == null ? base : base.forcing(force);
                    long before = gpu.allocator().bytesInUse();
                    try (CudaSparseModel sm = CudaSparseModel.plan(mg, batch, new CudaSparsePlanner(o))) {
                        String what = arch + " batch " + batch + " forcing " + force + " (plans " + sm.plans() + ")";
                        float[] got = gpu.download(sm.forward(xg));
                        Parity.assertClose(what + " against the dense model", dense, got, 1e-4, 1e-4);
                        Parity.assertClose(what + " against the CPU sparse model", cpuSparse, got, 1e-4, 1e-4);
                        for (SparseModel.LayerPlan p : sm.plans()) {
                            assertEquals(sparsity, p.sparsity(), 0.02, what + ": " + p.layer());
                            assertEquals("dense", p.timings().getFirst().format(), what);
                            boolean applies = p.timings().stream().anyMatch(t -> force != null && t.format().startsWith(force));
                            if (applies) assertTrue(p.format().startsWith(force), what + ": " + p.layer() + " ran " + p.format());
                            if (force == null) assertTrue(p.chosenMs() <= p.denseMs(), what + ": " + p.layer() + " slower than dense");
                            if (p.format().equals("dense")) assertNull(sm.weights(p.layer()), what);
                            else assertNotNull(sm.weights(p.layer()), what);
                        }
                        // a second batch through the same buffers, of another size (the last batch of an evaluation)
                        if (batch > 1) {
                            try (Tensor x1 = gpu.upload(Arrays.copyOf(xs, (int) INPUT.size()), Shape.of(1, 1, 28, 28))) {
                                float[] one = gpu.download(sm.forward(x1));
                                Parity.assertClose(what + ": first sample alone", Arrays.copyOf(dense, 10), one, 1e-4, 1e-4);
                            }
                        }
                    }
                    mg.forward(ExecContext.inference(gpu), xg); // the layers' own buffers back at this batch size
                    assertEquals(before, gpu.allocator().bytesInUse(), arch + " forcing " + force + ": the sparse model leaked device memory");
                }
            }
        }
    }

    @Test void lenet300100EveryFormatMatchesDense() {
        GpuTestSupport.assumeCuda();
        CudaSparsePlanner.Options o = CudaSparsePlanner.Options.quick();
        checkFormats("lenet-300-100", 0.9, 8, o, Arrays.asList(null, "dense", "csr/spmm-default", "csr/spmm-alg1", "blocked-ell-4"));
    }

    @Test void lenet300100BatchOneRunsSpmv() {
        GpuTestSupport.assumeCuda();
        checkFormats("lenet-300-100", 0.9, 1, CudaSparsePlanner.Options.quick(), Arrays.asList(null, "csr/spmv", "blocked-ell-4"));
    }

    @Test void lenet5ConvolutionsAsSparseGemm() {
        GpuTestSupport.assumeCuda();
        CudaSparsePlanner.Options o = new CudaSparsePlanner.Options(1, 2, new int[] {2}, 4.0, 0.05, null);
        checkFormats("lenet-5", 0.8, 2, o, Arrays.asList("csr/spmm-default", "csr/spmm-alg2", "blocked-ell-2"));
    }

    @Test void plansCoverDenseAndConvLayersAndSayWhatWasLeftOut() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-5", INPUT, 10).bind(gpu, 1);
            prune(m, 0.5);
            try (CudaSparseModel sm = CudaSparseModel.plan(m, 2, new CudaSparsePlanner(CudaSparsePlanner.Options.quick()))) {
                assertEquals(List.of("conv1", "conv2", "fc1", "fc2", "fc3"), sm.plans().stream().map(SparseModel.LayerPlan::layer).toList());
                SparseModel.LayerPlan conv2 = sm.plans().get(1);
                assertEquals(16, conv2.rows());
                assertEquals(6 * 25, conv2.cols());
                assertEquals(10 * 10, conv2.n());
                // 4 divides neither 6 nor 25: conv1 has no Blocked-ELL candidate, and says so
                assertTrue(sm.rejected("conv1").stream().anyMatch(r -> r.startsWith("blocked-ell-4")), sm.rejected("conv1").toString());
                assertTrue(sm.plans().get(0).timings().stream().noneMatch(t -> t.format().startsWith("blocked-ell")));
            }
        }
    }
}
