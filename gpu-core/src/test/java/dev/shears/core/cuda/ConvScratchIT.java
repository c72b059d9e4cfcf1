package dev.shears.core.cuda;

import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Conv2DLayoutOverride;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Conv2D scratch (im2col columns and the GEMM's output) is one buffer per CUDA backend
 * ({@link CudaBackend#sharedScratch}), sized for the largest layer, instead of one per layer kept
 * for the model's life. Checked through the allocator's accounting on a model of four convs of
 * different shapes (a strided one, a 1x1 and a grouped one), against results computed with a
 * buffer per layer (bit for bit), and against CUDA-graph capture (fixed addresses).
 */
class ConvScratchIT {
    private static final int BATCH = 8;
    private static final Shape INPUT = Shape.of(3, 12, 12);

    @AfterEach void restore() {
        Conv2DLayoutOverride.shareScratch(true);
        Conv2DLayoutOverride.columnsBudgetFloats(0);
    }

    /** conv1 3->8 3x3 pad 1; conv2 8->16 3x3 stride 2 pad 1; conv3 16->32 1x1; conv4 32->8 3x3 pad 1 in 2 groups. */
    static Model convs() {
        return Model.builder().input("input", INPUT)
                .then(Conv2D.of("conv1", 3, 8, 3, 1, 1, true))
                .then(Conv2D.of("conv2", 8, 16, 3, 2, 1, true))
                .then(Conv2D.of("conv3", 16, 32, 1, 1, 0, false))
                .then(new Conv2D("conv4", 32, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true))
                .build();
    }

    /** Floats of one conv's images-together scratch for the whole batch: columns [C*kh*kw, N*outHW] plus output [out, N*outHW]. */
    static long scratchFloats(Conv2D c, int h, int w) {
        var g = c.geometry(h, w);
        long columns = (long) BATCH * g.outH() * g.outW();
        return (long) c.inChannels() * c.kernelH() * c.kernelW() * columns + (long) c.outChannels() * columns;
    }

    private static float[] input() {
        SplittableRandom r = new SplittableRandom(11);
        float[] x = new float[BATCH * (int) INPUT.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    @Test
    void aForwardAndBackwardHoldOneScratchSizedForTheLargestConv() {
        GpuTestSupport.assumeCuda();
        // RELEASE: the layers' output and gradient buffers are theirs for the model's life (a Layer has no close)
        try (CudaBackend b = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            Model m = convs().bind(b, 3);
            // every conv unfolds the batch in one chunk, so its scratch is the formula's
            long largest = 0, sumOwn = 0, outputs = 0, inputGrads = 0;
            int h = INPUT.dim(1), w = INPUT.dim(2);
            boolean first = true;
            for (var layer : m.layers()) {
                Conv2D c = (Conv2D) layer;
                long f = scratchFloats(c, h, w);
                assertEquals(f, c.scratchFloats(BATCH, h, w, b.convScratchBudgetFloats()), c + ": the layer's own figure");
                largest = Math.max(largest, f);
                var g = c.geometry(h, w);
                // the former layout: columns and output, two buffers of this layer's own
                long columns = (long) BATCH * g.outH() * g.outW();
                sumOwn += CudaAllocator.sizeClass(4L * c.inChannels() * c.kernelH() * c.kernelW() * columns)
                        + CudaAllocator.sizeClass(4L * c.outChannels() * columns);
                outputs += CudaAllocator.sizeClass(4L * c.outChannels() * columns);
                if (!first) inputGrads += CudaAllocator.sizeClass(4L * BATCH * c.inChannels() * h * w); // conv1 needs no dx
                first = false;
                h = g.outH();
                w = g.outW();
            }
            assertEquals(scratchFloats((Conv2D) m.layer("conv4"), 6, 6), largest, "the grouped conv4 needs the most");
            try (Tensor x = b.upload(input(), Shape.of(BATCH, 3, 12, 12));
                 Tensor dy = b.allocate(Shape.of(BATCH, 8, 6, 6), DType.FLOAT32)) {
                b.fill(dy, 0.25f);
                ExecContext ctx = new ExecContext(b, true, 1);
                long before = b.allocator().bytesInUse();
                m.forward(ctx, x);
                m.backward(ctx, dy);
                long held = b.allocator().bytesInUse() - before;
                long shared = CudaAllocator.sizeClass(4 * largest);
                System.out.println("4 convs at batch " + BATCH + ": layer buffers after forward+backward " + held + " bytes with one "
                        + "shared scratch of " + shared + " bytes; a scratch per layer would hold " + sumOwn + " bytes of scratch, "
                        + (outputs + inputGrads + sumOwn) + " in all");
                assertEquals(largest, b.sharedScratchFloats(), "the shared scratch grows to the largest conv's need, no more");
                assertEquals(outputs + inputGrads + shared, held, "outputs, input gradients and one shared scratch, nothing else");
                assertTrue(shared < sumOwn, shared + " bytes shared against " + sumOwn + " per layer");
                // a second step allocates nothing new
                long allocations = b.allocator().deviceAllocations();
                m.zeroGrad();
                m.forward(ctx, x);
                m.backward(ctx, dy);
                assertEquals(before + held, b.allocator().bytesInUse());
                assertEquals(allocations, b.allocator().deviceAllocations());
            }
        }
    }

    @Test
    void theScratchStaysWithinTheBudgetWhateverTheBatch() {
        GpuTestSupport.assumeCuda();
        // conv4 needs (32*9 rows + 8 outputs) * 36 = 10,656 floats an image, conv1 (27 + 8) * 144 = 5,040: a budget of
        // three conv4 images chunks conv4 by 3 and conv1 by 6, where counting the columns alone (27 * 144 an image)
        // took conv1 in chunks of 8, 40,320 floats, past the budget
        int budget = 3 * 10_656;
        Conv2DLayoutOverride.columnsBudgetFloats(budget);
        try (CudaBackend b = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            float[] reference = null;
            for (int batch : new int[] {1, 8, 32}) {
                Model m = convs().bind(b, 3);
                float[] in = new float[batch * (int) INPUT.size()];
                float[] one = input();
                for (int i = 0; i < in.length; i++) in[i] = one[i % one.length];
                try (Tensor x = b.upload(in, Shape.of(batch, 3, 12, 12));
                     Tensor dy = b.allocate(Shape.of(batch, 8, 6, 6), DType.FLOAT32)) {
                    ExecContext ctx = new ExecContext(b, true, 1);
                    Tensor y = m.forward(ctx, x);
                    b.copy(y, dy);
                    m.backward(ctx, dy);
                    long largest = 0;
                    int h = INPUT.dim(1), w = INPUT.dim(2);
                    for (var layer : m.layers()) {
                        Conv2D c = (Conv2D) layer;
                        largest = Math.max(largest, c.scratchFloats(batch, h, w, budget));
                        var g = c.geometry(h, w);
                        h = g.outH();
                        w = g.outW();
                    }
                    System.out.println("4 convs at batch " + batch + " under a budget of " + budget + " floats: shared scratch "
                            + b.sharedScratchFloats() + " floats");
                    // the grown block is the largest request, so the bound is the budget itself (no margin but the allocator's size class)
                    assertTrue(b.sharedScratchFloats() <= budget, "batch " + batch + ": the shared scratch holds "
                            + b.sharedScratchFloats() + " floats, more than the budget of " + budget);
                    assertEquals(largest, b.sharedScratchFloats(), "batch " + batch + ": the layers' own figure");
                    // the first image's output does not depend on how the batch was chunked, bit for bit
                    float[] first = java.util.Arrays.copyOf(b.download(y), 8 * 6 * 6);
                    if (reference == null) reference = first;
                    else assertArrayEquals(reference, first, "batch " + batch + ": image 0's output");
                }
            }
        }
    }

    @Test
    void sharedScratchGivesTheSameResultsBitForBitAsAScratchPerLayer() {
        GpuTestSupport.assumeCuda();
        try (CudaBackend b = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE)) {
            List<float[]> shared = step(b);
            Conv2DLayoutOverride.shareScratch(false);
            List<float[]> own = step(b);
            assertEquals(own.size(), shared.size());
            for (int i = 0; i < own.size(); i++) assertArrayEquals(own.get(i), shared.get(i), "tensor " + i + " (output, then gradients)");
        }
    }

    /** The output, then every parameter gradient, of one forward and backward of a fresh, identically seeded model. */
    private static List<float[]> step(CudaBackend b) {
        Model m = convs().bind(b, 3);
        List<float[]> out = new ArrayList<>();
        try (Tensor x = b.upload(input(), Shape.of(BATCH, 3, 12, 12));
             Tensor dy = b.allocate(Shape.of(BATCH, 8, 6, 6), DType.FLOAT32)) {
            ExecContext ctx = new ExecContext(b, true, 1);
            Tensor y = m.forward(ctx, x);
            out.add(b.download(y));
            b.copy(y, dy); // a gradient that differs per element
            m.zeroGrad();
            m.backward(ctx, dy);
            for (Parameter p : m.parameters()) out.add(b.download(p.grad()));
        }
        return out;
    }

    @Test
    void theScratchCannotGrowDuringACaptureAndOutlivesItsReplacementWhileAGraphLives() {
        try (CudaBackend b = GpuTestSupport.strictBackend();
             Tensor x = b.allocate(Shape.of(4, 4), DType.FLOAT32);
             Tensor y = b.allocate(Shape.of(4), DType.INT32)) {
            Tensor first = b.sharedScratch(1000);
            assertSame(first, b.sharedScratch(10), "a smaller request reuses it");
            var grow = assertThrows(CudaAllocator.GraphCaptureAllocationException.class,
                    () -> CudaStepGraph.capture(b, x, y, 4, new Tensor[0], () -> b.sharedScratch(2000)));
            assertTrue(grow.getMessage().contains("uncaptured first"), grow.getMessage());
            assertSame(first, b.sharedScratch(1000), "the failed capture left the scratch as it was");
            int blocks = b.allocator().liveBlocks();
            try (CudaStepGraph g = CudaStepGraph.capture(b, x, y, 4, new Tensor[0], () -> b.fill(b.sharedScratch(1000), 1f))) {
                int withGraph = b.allocator().liveBlocks(); // the graph's own scalar block besides
                Tensor second = b.sharedScratch(1 << 20);
                assertNotSame(first, second);
                // the graph writes the first block at every replay: it stays allocated beside the second
                assertEquals(withGraph + 1, b.allocator().liveBlocks());
                g.launch(0f, 1, 0);
                assertEquals(1f, b.download(first)[999], "the replay wrote the block it was captured with");
            }
            assertEquals(blocks, b.allocator().liveBlocks(), "the replaced scratch is freed with the last graph (the new one replaces it)");
            assertEquals(1 << 20, b.sharedScratchFloats());
        }
    }
}
