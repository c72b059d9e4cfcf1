package dev.shears.core.cuda;

import dev.shears.core.nn.layers.Conv2D;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA backend's conv scratch for a full-size ResNet-50 (224x224), through the figures the
 * layers ask the shared scratch for ({@link Conv2D#scratchFloats}, which ConvScratchIT checks
 * against what the backend allocates) and the allocator's size classes: whatever the batch, the
 * block stays within the backend's budget, {@link CudaBackend#CONV_SCRATCH_MAX_BYTES}. The model
 * is too large to run on the CPU emulator at these batches; ConvScratchIT runs the same bound on
 * a small model for real.
 */
class ConvScratchBudgetTest {
    /** the budget of a CUDA backend on a device with at least 16 times that much memory free (an H100's 80 GB) */
    private static final long BUDGET_FLOATS = CudaBackend.CONV_SCRATCH_MAX_BYTES / Float.BYTES;

    /** A convolution of the model and the spatial size of its input. */
    record At(Conv2D conv, int size) {}

    /**
     * ResNet-50's 53 convolutions at 224x224 (He et al. 2016, torchvision's layout: bottlenecks
     * [3, 4, 6, 3] of 1x1, 3x3 (carrying the stride), 1x1; a strided 1x1 downsample on each stage's
     * first block), each with its input size: conv1 7x7/2 to 112, a 3x3/2 max pool to 56.
     */
    static List<At> resnet50() {
        List<At> out = new ArrayList<>();
        out.add(new At(Conv2D.of("conv1", 3, 64, 7, 2, 3, false), 224));
        int in = 64, size = 56;
        int[] blocks = {3, 4, 6, 3};
        for (int stage = 0; stage < 4; stage++) {
            int width = 64 << stage, outC = width * 4;
            for (int b = 0; b < blocks[stage]; b++) {
                String p = "layer" + (stage + 1) + "." + b + ".";
                int stride = stage > 0 && b == 0 ? 2 : 1;
                out.add(new At(Conv2D.of(p + "conv1", in, width, 1, 1, 0, false), size));
                out.add(new At(Conv2D.of(p + "conv2", width, width, 3, stride, 1, false), size));
                if (b == 0) out.add(new At(Conv2D.of(p + "downsample", in, outC, 1, stride, 0, false), size));
                size /= stride;
                out.add(new At(Conv2D.of(p + "conv3", width, outC, 1, 1, 0, false), size));
                in = outC;
            }
        }
        return out;
    }

    /** Bytes of the shared scratch block after a forward and backward of every conv at this batch: the largest request, in its size class. */
    static long scratchBytes(List<At> convs, int batch, long budgetFloats) {
        long largest = 0;
        for (At a : convs) largest = Math.max(largest, a.conv().scratchFloats(batch, a.size(), a.size(), budgetFloats));
        return CudaAllocator.sizeClass(Float.BYTES * largest);
    }

    @Test void resnet50HasItsFiftyThreeConvolutionsEndingAt7x7() {
        List<At> convs = resnet50();
        assertEquals(53, convs.size());
        At last = convs.getLast();
        assertEquals(2048, last.conv().outChannels());
        assertEquals(7, last.size());
    }

    @Test void resnet50ScratchStaysWithinTheBudgetWhateverTheBatch() {
        List<At> convs = resnet50();
        // the margin: the allocator rounds a request up to its size class (2 MiB steps above 1 MiB)
        long bound = CudaAllocator.sizeClass(CudaBackend.CONV_SCRATCH_MAX_BYTES);
        int[] batches = {1, 8, 64, 256, 1024};
        long[] bytes = new long[batches.length];
        for (int i = 0; i < batches.length; i++) {
            bytes[i] = scratchBytes(convs, batches[i], BUDGET_FLOATS);
            System.out.println("ResNet-50 224x224 at batch " + batches[i] + ": shared conv scratch " + CudaAllocator.mib(bytes[i])
                    + " under a budget of " + CudaAllocator.mib(CudaBackend.CONV_SCRATCH_MAX_BYTES));
        }
        for (int i = 0; i < batches.length; i++)
            assertTrue(bytes[i] <= bound, "batch " + batches[i] + ": the conv scratch takes " + bytes[i] + " bytes, more than the budget's "
                    + bound + " (" + CudaBackend.CONV_SCRATCH_MAX_BYTES + " rounded to its size class)");
        // one image of the largest conv (conv1: 147 rows + 64 outputs over 112x112) is far inside it, so the bound is the budget's
        long oneImage = 0;
        for (At a : convs) oneImage = Math.max(oneImage, a.conv().scratchFloats(1, a.size(), a.size(), BUDGET_FLOATS));
        assertTrue(Float.BYTES * oneImage * 8 < CudaBackend.CONV_SCRATCH_MAX_BYTES, oneImage + " floats for one image");
        // and at batch 64 and above the chunks fill most of it: the budget, not the batch, sets the size
        assertTrue(scratchBytes(convs, 256, BUDGET_FLOATS) > CudaBackend.CONV_SCRATCH_MAX_BYTES / 2);
    }
}
