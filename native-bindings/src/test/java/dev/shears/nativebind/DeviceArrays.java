package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the binding tests that talk to a device share (this module cannot use gpu-core's
 * GpuTestSupport): host arrays copied into fresh device memory and back on a stream, and the
 * skip-or-fail rule for a missing library. Also used by gpu-core's emulated cuSPARSELt checks.
 */
final class DeviceArrays {
    private DeviceArrays() {}

    /** Skips the test naming the cause, or fails under -Dshears.requireGpu=true (or SHEARS_REQUIRE_GPU=true). */
    static void skipOrFail(String library, String cause) {
        if (Boolean.getBoolean("shears.requireGpu") || "true".equalsIgnoreCase(System.getenv("SHEARS_REQUIRE_GPU")))
            fail(library + " unavailable but -Dshears.requireGpu=true: " + cause);
        org.junit.jupiter.api.Assumptions.assumeTrue(false, library + " unavailable: " + cause);
    }

    /** Device memory holding a copy of host (the caller frees it). */
    static long upload(MemorySegment host, CudaStream s) {
        long d = Cuda.memAlloc(host.byteSize());
        Cuda.copyToDevice(d, host, host.byteSize(), s);
        return d;
    }

    static long upload(float[] v, CudaStream s) { return upload(MemorySegment.ofArray(v), s); }

    static long upload(short[] v, CudaStream s) { return upload(MemorySegment.ofArray(v), s); }

    /** n floats from device memory d. */
    static float[] downloadFloats(long d, int n, CudaStream s) {
        float[] out = new float[n];
        Cuda.copyFromDevice(MemorySegment.ofArray(out), d, 4L * n, s);
        return out;
    }

    /** n 16-bit values (FP16/BF16 bits) from device memory d. */
    static short[] downloadShorts(long d, int n, CudaStream s) {
        short[] out = new short[n];
        Cuda.copyFromDevice(MemorySegment.ofArray(out), d, 2L * n, s);
        return out;
    }
}
