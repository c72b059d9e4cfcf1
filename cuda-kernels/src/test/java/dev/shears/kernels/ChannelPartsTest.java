package dev.shears.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How many blocks share one channel of a per-channel reduction (ChannelParts.of: bias gradient, batch norm, PReLU slope). */
class ChannelPartsTest {
    /** KernelRuntime's grid cap on a 132-SM H100: 32 blocks per SM. */
    private static final int H100_MAX_GRID = 132 * 32;

    @Test
    void fewChannelsOnABigGpuShareEachChannel() {
        // mnist-cnn's conv1 at batch 512: 32 channels of 512 x 26 x 26; 132 * 4 = 528 blocks wanted
        assertEquals(17, ChannelParts.of(32, 512L * 26 * 26, H100_MAX_GRID));
        // a Linear layer's bias (inner 1) at batch 128 with 10 outputs: 128 elements a channel, too few to share
        assertEquals(1, ChannelParts.of(10, 128, H100_MAX_GRID));
    }

    @Test
    void batchNormWithFewChannelsOnABigGpuSharesEachChannel() {
        // ResNet-50's bn1 at batch 256: 64 channels of 256 x 112 x 112, 528 blocks wanted
        assertEquals(9, ChannelParts.of(64, 256L * 112 * 112, H100_MAX_GRID));
        // its last stage: 2048 channels fill the GPU alone
        assertEquals(1, ChannelParts.of(2048, 256L * 7 * 7, H100_MAX_GRID));
    }

    @Test
    void channelsThatFillTheGpuKeepOneBlockEach() {
        assertEquals(1, ChannelParts.of(528, 1L << 30, H100_MAX_GRID));
        assertEquals(1, ChannelParts.of(100_000, 1L << 20, H100_MAX_GRID));
    }

    @Test
    void eachThreadKeepsEnoughWork() {
        // one channel: 528 blocks wanted, but 256 threads x 8 elements per block allow only 10
        assertEquals(10, ChannelParts.of(1, 20_480 + 100, H100_MAX_GRID));
        // grid y holds at most 65535 blocks
        assertEquals(65535, ChannelParts.of(1, 1L << 40, 1 << 22));
    }
}
