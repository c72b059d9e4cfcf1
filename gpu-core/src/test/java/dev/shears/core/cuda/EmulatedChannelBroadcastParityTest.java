package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;

/** {@link ChannelBroadcastParityIT} on the CPU emulator of the CUDA driver (see {@link EmulatedCudaBackendContractTest}). */
class EmulatedChannelBroadcastParityTest extends ChannelBroadcastParityIT {
    @BeforeAll static void emulator() { CudaEmulator.require(); }
}
