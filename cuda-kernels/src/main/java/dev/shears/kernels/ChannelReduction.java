package dev.shears.kernels;

import java.util.function.LongConsumer;

/**
 * One per-channel reduction launched the {@link ChannelParts} way: a kernel that sums each channel
 * in one block when the channels fill the GPU, or a partial kernel whose {@code parts} blocks per
 * channel write double sums to a [channels, parts] scratch that shears_channel_parts_finish
 * (bias.cu) then adds in a fixed order into the float output. Used by the bias gradient, the
 * PReLU slope gradient and the depthwise kernel gradient (a "channel" there is one weight).
 */
final class ChannelReduction {
    private final KernelRuntime rt;
    private final Kernel direct, partial, finish;

    /** {@code direct} and {@code partial}: the two kernels' names in the image. */
    ChannelReduction(KernelRuntime rt, String direct, String partial) {
        this.rt = rt;
        this.direct = rt.kernel(direct);
        this.partial = rt.kernel(partial);
        this.finish = rt.kernel("shears_channel_parts_finish");
    }

    /**
     * Sums {@code count} terms per channel into {@code out} [channels] floats. {@code directArgs} sets
     * the direct kernel's arguments (its own output pointer and accumulate flag included); {@code
     * partialArgs} sets the partial kernel's, given the scratch [channels, parts] doubles it writes.
     * On the split path the finish kernel writes {@code out}, adding to it when {@code accumulate}.
     */
    void run(int channels, long count, long out, boolean accumulate, Runnable directArgs, LongConsumer partialArgs) {
        int parts = ChannelParts.of(channels, count, rt.maxGrid());
        if (parts == 1) {
            directArgs.run();
            rt.launch(direct, channels, 1, KernelRuntime.BLOCK, 0);
            return;
        }
        long scratch = rt.memory().allocate(8L * channels * parts);
        try {
            partialArgs.accept(scratch);
            rt.launch(partial, channels, parts, KernelRuntime.BLOCK, 0);
            rt.args().ptr(scratch).ptr(out).i32(channels).i32(parts).i32(accumulate ? 1 : 0);
            rt.launch1d(finish, channels);
        } finally {
            rt.memory().free(scratch);
        }
    }
}
