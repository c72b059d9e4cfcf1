package dev.shears.core.cuda;

import dev.shears.core.cuda.sparse.CudaSparseModel;
import dev.shears.core.cuda.sparse.CudaSparsePlanner;
import dev.shears.core.cuda.sparse.CudaStructuredMatrix;
import dev.shears.core.cuda.sparse.Precision;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.sparse.NmConvolutionTest;
import dev.shears.core.sparse.SparseModel;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * cuSPARSELt 2:4 as a GPU planner candidate ({@link CudaStructuredMatrix}) behind the
 * reduced-precision opt-in, on a LeNet-300-100 over 5x7 inputs (35-300-100-10) whose Dense kernels
 * are pruned 2:4 along their inputs. Every shape needs padding: k = 35 (a short last group of
 * three inputs) -> 48, 300 -> 304, 100 -> 112, outputs 10 -> 16, batch 5 -> 8 and, for the second
 * batch, 1 -> 8.
 *
 * <p>Tolerance on the logits against the FP32 dense model: {@code atol + rtol*|ref|} with
 * atol = rtol = 4u, u the 16-bit format's unit roundoff (2^-11 FP16, 2^-8 BF16). Each layer rounds
 * its inputs and weights (relative u each, so a product is off by at most 2u of |w x|) and its
 * output (u of |y|), accumulating in FP32 (whose order, cuSPARSELt's or the emulator's, adds
 * ~1e-7); rounding errors of random sign partly cancel over a layer's sums, and the logits here
 * are of magnitude ~0.1 to 1. Observed on the emulator: 0.56u (FP16) and 0.38u (BF16) of
 * (1 + |ref|), so 4u leaves room for a GPU's other summation order. A wrong operand (an output read
 * untransposed fails it: checked by hand) moves logits by their own size, far beyond it.
  */
class CudaStructuredSparseIT {
    private static final Shape INPUT = Shape.of(1, 5, 7);
    private static final int BATCH = 5;

    /** Keeps the two largest-magnitude weights of every group of four consecutive inputs per output (a short last group too). */
    static void prune24(Model m, String... layers) {
        for (String name : layers) {
            Dense d = (Dense) m.layer(name);
            float[] w = m.backend().download(d.kernel().value()); // [in, out]
            int in = d.inFeatures(), out = d.outFeatures();
            for (int o = 0; o < out; o++)
                for (int g = 0; g < in; g += 4) {
                    int end = Math.min(in, g + 4);
                    Integer[] idx = new Integer[end - g];
                    for (int i = g; i < end; i++) idx[i - g] = i;
                    int oo = o;
                    Arrays.sort(idx, (a, b) -> Float.compare(Math.abs(w[b * out + oo]), Math.abs(w[a * out + oo])));
                    for (int r = 2; r < idx.length; r++) w[idx[r] * out + o] = 0f;
                }
            m.backend().write(w, 0, d.kernel().value(), 0, w.length);
        }
    }

    private static float[] input(int batch) {
        SplittableRandom rng = new SplittableRandom(9);
        float[] xs = new float[batch * (int) INPUT.size()];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextDouble();
        return xs;
    }

    private static int[] argmax(float[] logits, int classes) {
        int[] p = new int[logits.length / classes];
        for (int s = 0; s < p.length; s++)
            for (int c = 1; c < classes; c++) if (logits[s * classes + c] > logits[s * classes + p[s]]) p[s] = c;
        return p;
    }

    private static Model model(CudaBackend gpu) {
        Model m = Architectures.create("lenet-300-100", INPUT, 10).bind(gpu, 7);
        prune24(m, "fc1", "fc2", "fc3");
        return m;
    }

    private static List<String> denseLayers(Model m) {
        return m.nodes().stream().filter(n -> n.layer() instanceof Dense).map(n -> n.layer().name()).toList();
    }

    /** What a subclass knows of the device's search result ({@code configId}; the emulator's choice is fixed); nothing here. */
    void autotuned(int configId, String what) {}

    @Test
    void forcedTwoOfFourPredictsLikeDenseWithinSixteenBitRounding() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = model(gpu);
            assertEquals(List.of("fc1", "fc2", "fc3"), denseLayers(m));
            float[] xs = input(BATCH);
            try (Tensor x = gpu.upload(xs, INPUT.withBatch(BATCH))) {
                float[] dense = gpu.download(m.forward(ExecContext.inference(gpu), x));
                for (Precision p : new Precision[] {Precision.FP16, Precision.BF16}) {
                    double u = p == Precision.FP16 ? 0x1p-11 : 0x1p-8, tol = 4 * u;
                    String label = "2:4-lt " + p.id();
                    long before = gpu.allocator().bytesInUse();
                    CudaSparsePlanner planner = new CudaSparsePlanner(CudaSparsePlanner.Options.quick().withPrecision(p).forcing("2:4-lt"));
                    try (CudaSparseModel sm = CudaSparseModel.plan(m, BATCH, planner)) {
                        String what = p + " (plans " + sm.plans() + ")";
                        for (SparseModel.LayerPlan lp : sm.plans()) {
                            assertEquals(label, lp.format(), what);
                            assertTrue(lp.timings().stream().anyMatch(t -> t.format().equals(label)), "timed like the others: " + lp);
                            CudaStructuredMatrix w = assertInstanceOf(CudaStructuredMatrix.class, sm.weights(lp.layer()), what);
                            assertEquals(p, w.precision());
                            assertTrue(w.storageBytes() > 0, what);
                            // autotuned at plan time: the configuration cuSPARSELt's search kept, read back from the library
                            assertTrue(w.algConfigId() >= 0, what);
                            assertEquals("cusparselt-spmma-" + p.id() + "-config" + w.algConfigId(), w.kernel(), what);
                            assertEquals(CudaStructuredMatrix.SEARCH_ITERATIONS, w.searchIterations(), "set explicitly: " + what);
                            autotuned(w.algConfigId(), what);
                        }
                        assertArrayEquals(new int[] {304, 48}, ((CudaStructuredMatrix) sm.weights("fc1")).paddedShape(), "fc1 [300, 35] padded");
                        assertArrayEquals(new int[] {16, 112}, ((CudaStructuredMatrix) sm.weights("fc3")).paddedShape(), "fc3 [10, 100] padded");
                        float[] got = gpu.download(sm.forward(x));
                        double worst = 0;
                        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - dense[i]) / (1 + Math.abs(dense[i])));
                        System.err.printf("%s: worst |logit - dense| / (1 + |dense|) = %.3g (%.2f u)%n", label, worst, worst / u);
                        Parity.assertClose(what + " against the FP32 dense model", dense, got, tol, tol);
                        assertArrayEquals(argmax(dense, 10), argmax(got, 10), what + ": predictions");
                        assertFalse(Arrays.equals(dense, got), "16-bit rounding shows in the last bits: the 2:4 path ran, not dense");
                        // one sample, through the same plan (padded to the planned batch width)
                        try (Tensor x1 = gpu.upload(Arrays.copyOf(xs, (int) INPUT.size()), INPUT.withBatch(1))) {
                            Parity.assertClose(what + ": first sample alone", Arrays.copyOf(dense, 10), gpu.download(sm.forward(x1)), tol, tol);
                        }
                        // a wider batch than planned builds a plan for its width
                        float[] xs12 = input(12);
                        try (Tensor x12 = gpu.upload(xs12, INPUT.withBatch(12))) {
                            float[] dense12 = gpu.download(m.forward(ExecContext.inference(gpu), x12));
                            Parity.assertClose(what + ": batch 12", dense12, gpu.download(sm.forward(x12)), tol, tol);
                        }
                        // and searches its own kernel configuration for that width (it kept the default 0 before)
                        for (SparseModel.LayerPlan lp : sm.plans()) {
                            CudaStructuredMatrix w = (CudaStructuredMatrix) sm.weights(lp.layer());
                            assertTrue(w.algConfigId(12) >= 0, "batch 12 has a plan: " + what);
                            autotuned(w.algConfigId(12), what + ", " + lp.layer() + " at batch 12");
                        }
                    }
                    m.forward(ExecContext.inference(gpu), x); // the layers' own buffers back at this batch size
                    assertEquals(before, gpu.allocator().bytesInUse(), label + ": the 2:4 plan leaked device memory");
                }
                // timed (not forced): every layer still has the candidate, and nothing is chosen slower than dense
                try (CudaSparseModel sm = CudaSparseModel.plan(m, BATCH,
                        new CudaSparsePlanner(CudaSparsePlanner.Options.quick().withPrecision(Precision.FP16)))) {
                    for (SparseModel.LayerPlan lp : sm.plans()) {
                        assertTrue(lp.timings().stream().anyMatch(t -> t.format().equals("2:4-lt fp16")), lp.toString());
                        assertTrue(lp.chosenMs() <= lp.denseMs(), lp + " slower than dense");
                    }
                    float[] got = gpu.download(sm.forward(x));
                    Parity.assertClose("timed fp16 plan " + sm.plans(), dense, got, 4 * 0x1p-11, 4 * 0x1p-11);
                }
            }
        }
    }

    /**
     * FP16's range for activations: a calibration batch scaled to 1e5 (the largest input about
     * 1e5, beyond 65504) refuses fc1's FP16 2:4 candidate, naming its input and the value; the same
     * model calibrated on unscaled inputs takes it; BF16 (FP32's exponent range) takes it on the
     * scaled batch too. fc1's kernel scaled by 3e5 (weights within FP16's range) makes its output
     * overflow instead, on unscaled inputs.
     */
    @Test
    void fp16RefusesALayerWhoseActivationsLeaveItsRangeAndBf16DoesNot() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = model(gpu);
            float[] xs = input(BATCH), big = xs.clone();
            double maxBig = 0;
            for (int i = 0; i < big.length; i++) maxBig = Math.max(maxBig, Math.abs(big[i] *= 1e5f));
            CudaSparsePlanner.Options forced = CudaSparsePlanner.Options.quick().forcing("2:4-lt");
            try (Tensor scaled = gpu.upload(big, INPUT.withBatch(BATCH)); Tensor plain = gpu.upload(xs, INPUT.withBatch(BATCH))) {
                try (CudaSparseModel sm = CudaSparseModel.plan(m, BATCH, new CudaSparsePlanner(forced.withPrecision(Precision.FP16)), scaled)) {
                    assertEquals("dense", sm.plans().getFirst().format(), sm.plans().toString());
                    String why = sm.rejected("fc1").stream().filter(r -> r.startsWith("2:4-lt fp16: its input reaches")).findFirst().orElse(null);
                    assertNotNull(why, "fc1 says why: " + sm.rejected("fc1"));
                    assertTrue(why.contains(String.format(java.util.Locale.ROOT, "|%.6g|", maxBig)), "names the value " + maxBig + ": " + why);
                    assertTrue(why.contains("--precision bf16"), why);
                }
                try (CudaSparseModel sm = CudaSparseModel.plan(m, BATCH, new CudaSparsePlanner(forced.withPrecision(Precision.FP16)), plain)) {
                    assertTrue(sm.plans().stream().allMatch(p -> p.format().equals("2:4-lt fp16")), "in range: " + sm.plans());
                }
                try (CudaSparseModel sm = CudaSparseModel.plan(m, BATCH, new CudaSparsePlanner(forced.withPrecision(Precision.BF16)), scaled)) {
                    assertTrue(sm.plans().stream().allMatch(p -> p.format().equals("2:4-lt bf16")), "bf16 is never refused for range: " + sm.plans());
                }
                Dense fc1 = (Dense) m.layer("fc1");
                float[] w = gpu.download(fc1.kernel().value());
                for (int i = 0; i < w.length; i++) w[i] *= 3e5f;
                gpu.write(w, 0, fc1.kernel().value(), 0, w.length);
                try (CudaSparseModel sm = CudaSparseModel.plan(m, BATCH, new CudaSparsePlanner(forced.withPrecision(Precision.FP16)), plain)) {
                    assertEquals("dense", sm.plans().getFirst().format(), sm.plans().toString());
                    assertTrue(sm.rejected("fc1").stream().anyMatch(r -> r.startsWith("2:4-lt fp16: its output (before the bias) reaches")),
                            "the weights fit FP16, the output does not: " + sm.rejected("fc1"));
                }
            }
        }
    }

    @Test
    void withoutTheOptInTwoOfFourIsNeverOffered() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = model(gpu);
            CudaSparsePlanner.Options fp32 = CudaSparsePlanner.Options.quick().forcing("2:4-lt");
            assertEquals(Precision.FP32, fp32.precision());
            assertEquals(Precision.FP32, CudaSparsePlanner.Options.defaults().precision(), "the default is fp32");
            try (CudaSparseModel sm = CudaSparseModel.plan(m, BATCH, new CudaSparsePlanner(fp32))) {
                assertEquals(3, sm.plans().size());
                for (SparseModel.LayerPlan lp : sm.plans()) {
                    assertFalse(lp.format().startsWith("2:4-lt"), lp.toString());
                    assertTrue(lp.timings().stream().noneMatch(t -> t.format().startsWith("2:4-lt")), lp.toString());
                    assertTrue(sm.rejected(lp.layer()).stream().noneMatch(r -> r.startsWith("2:4-lt")), sm.rejected(lp.layer()).toString());
                    assertFalse(sm.weights(lp.layer()) instanceof CudaStructuredMatrix, lp.toString());
                }
            }
        }
    }

    @Test
    void aLayerThatIsNotTwoOfFourIsNeverOfferedItAndSaysWhy() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-300-100", INPUT, 10).bind(gpu, 7);
            prune24(m, "fc1", "fc3");
            // fc2: 50% unstructured magnitude pruning leaves many groups of four with three or four weights
            CudaSparseModelIT.pruneLayer(m, "fc2", 0.5);
            float[] xs = input(BATCH);
            CudaSparsePlanner forced = new CudaSparsePlanner(CudaSparsePlanner.Options.quick().withPrecision(Precision.FP16).forcing("2:4-lt"));
            try (Tensor x = gpu.upload(xs, INPUT.withBatch(BATCH)); CudaSparseModel sm = CudaSparseModel.plan(m, BATCH, forced)) {
                float[] dense = gpu.download(m.forward(ExecContext.inference(gpu), x));
                SparseModel.LayerPlan fc2 = sm.plans().get(1);
                assertEquals("fc2", fc2.layer());
                assertFalse(fc2.format().startsWith("2:4-lt"), fc2.toString());
                assertTrue(fc2.timings().stream().noneMatch(t -> t.format().startsWith("2:4-lt")), fc2.toString());
                String why = sm.rejected("fc2").stream().filter(r -> r.startsWith("2:4-lt fp16: not 2:4: output ")).findFirst().orElse(null);
                assertNotNull(why, "fc2 says why it has no 2:4 candidate: " + sm.rejected("fc2"));
                assertTrue(why.contains("nonzeros"), why);
                assertEquals("2:4-lt fp16", sm.plans().get(0).format());
                assertEquals("2:4-lt fp16", sm.plans().get(2).format());
                Parity.assertClose("mixed plan " + sm.plans(), dense, gpu.download(sm.forward(x)), 4 * 0x1p-11, 4 * 0x1p-11);
            }
        }
    }

    /**
     * 2:4 convolutions: {@link NmConvolutionTest}'s CNN (conv 3x3 8->8, conv 3x3 stride 2 8->12,
     * conv 1x1 12->8 pruned 2:4 along input channels, conv 3x3 8->8 pruned 50% unstructured),
     * forced to cuSPARSELt: the 3x3 ones run their tap-major kernel on tap-major im2col rows, the
     * 1x1 one its own kernel, the unstructured one is never offered it and says why; the logits
     * stay within the Dense test's 4u of the FP32 dense model (k = 72 to 108 per output, five
     * layers; observed on the emulator: below 1u) and predictions match.
     */
    @Test
    void twoOfFourConvolutionsRunItOnTapMajorColumns() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = NmConvolutionTest.prunedCnn(gpu);
            int batch = NmConvolutionTest.BATCH, classes = NmConvolutionTest.CLASSES;
            float[] xs = NmConvolutionTest.input(batch);
            Shape in = Shape.of(NmConvolutionTest.C, NmConvolutionTest.H, NmConvolutionTest.W);
            try (Tensor x = gpu.upload(xs, in.withBatch(batch))) {
                float[] dense = gpu.download(m.forward(ExecContext.inference(gpu), x));
                for (Precision p : new Precision[] {Precision.FP16, Precision.BF16}) {
                    double u = p == Precision.FP16 ? 0x1p-11 : 0x1p-8, tol = 4 * u;
                    String label = "2:4-lt " + p.id();
                    long before = gpu.allocator().bytesInUse();
                    CudaSparsePlanner planner = new CudaSparsePlanner(CudaSparsePlanner.Options.quick().withPrecision(p).forcing("2:4-lt"));
                    try (CudaSparseModel sm = CudaSparseModel.plan(m, batch, planner)) {
                        String what = p + " (plans " + sm.plans() + ", rejected conv4 " + sm.rejected("conv4") + ")";
                        for (String conv : List.of("conv1", "conv2", "conv3")) {
                            SparseModel.LayerPlan lp = sm.plans().stream().filter(q -> q.layer().equals(conv)).findFirst().orElseThrow();
                            assertEquals(label, lp.format(), conv + ": " + what);
                            assertInstanceOf(CudaStructuredMatrix.class, sm.weights(conv), what);
                            assertEquals(!conv.equals("conv3"), sm.tapMajor(conv), conv + ": tap-major for 3x3, own order for 1x1");
                        }
                        SparseModel.LayerPlan conv4 = sm.plans().stream().filter(q -> q.layer().equals("conv4")).findFirst().orElseThrow();
                        assertFalse(conv4.format().startsWith("2:4-lt"), what);
                        assertTrue(conv4.timings().stream().noneMatch(t -> t.format().startsWith("2:4-lt")), what);
                        assertFalse(sm.tapMajor("conv4"));
                        String why = sm.rejected("conv4").stream().filter(r -> r.startsWith(label + ": not 2:4 along input channels: output "))
                                .findFirst().orElse(null);
                        assertNotNull(why, "conv4 says why it has no 2:4 candidate: " + sm.rejected("conv4"));
                        assertTrue(why.contains("tap (") && why.contains("nonzeros"), why);
                        float[] got = gpu.download(sm.forward(x));
                        double worst = 0;
                        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - dense[i]) / (1 + Math.abs(dense[i])));
                        System.err.printf("%s convolutions: worst |logit - dense| / (1 + |dense|) = %.3g (%.2f u)%n", label, worst, worst / u);
                        Parity.assertClose(what + " against the FP32 dense model", dense, got, tol, tol);
                        assertArrayEquals(NmConvolutionTest.argmax(dense, classes), NmConvolutionTest.argmax(got, classes), what + ": predictions");
                        assertFalse(Arrays.equals(dense, got), "16-bit rounding shows in the last bits: the 2:4 path ran, not dense");
                    }
                    m.forward(ExecContext.inference(gpu), x);
                    assertEquals(before, gpu.allocator().bytesInUse(), label + ": the 2:4 conv plan leaked device memory");
                }
            }
        }
    }

    @Test
    void convolutionsOfLeNet5PrunedUnstructuredAreNotOfferedItAndSayWhy() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = Architectures.create("lenet-5", Shape.of(1, 28, 28), 10).bind(gpu, 1);
            CudaSparseModelIT.prune(m, 0.5);
            CudaSparsePlanner o = new CudaSparsePlanner(CudaSparsePlanner.Options.quick().withPrecision(Precision.BF16));
            try (CudaSparseModel sm = CudaSparseModel.plan(m, 2, o)) {
                for (String conv : List.of("conv1", "conv2")) {
                    assertTrue(sm.rejected(conv).stream().anyMatch(r -> r.startsWith("2:4-lt bf16: not 2:4 along input channels")),
                            sm.rejected(conv).toString());
                    assertTrue(sm.plans().stream().filter(p -> p.layer().equals(conv)).allMatch(p -> p.timings().stream()
                            .noneMatch(t -> t.format().startsWith("2:4-lt"))));
                }
            }
        }
    }
}
