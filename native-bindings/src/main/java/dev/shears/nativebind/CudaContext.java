package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;

/**
 * The primary context of one device, retained on open and released on close. Make it current on
 * each thread that issues CUDA calls ({@link #makeCurrent()}).
 */
public final class CudaContext implements AutoCloseable {
    private final int ordinal;
    private final int device;
    private final MemorySegment handle;
    private boolean closed;

    private CudaContext(int ordinal, int device, MemorySegment handle) {
        this.ordinal = ordinal;
        this.device = device;
        this.handle = handle;
    }

    /** Initialises the driver, retains device {@code ordinal}'s primary context and makes it current. */
    public static CudaContext open(int ordinal) {
        Cuda.init();
        int count = Cuda.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new IllegalArgumentException("CUDA device " + ordinal + " requested but " + count + " present");
        }
        int device = Cuda.device(ordinal);
        CudaContext ctx = new CudaContext(ordinal, device, Cuda.primaryContextRetain(device));
        ctx.makeCurrent();
        return ctx;
    }

    public void makeCurrent() { Cuda.contextSetCurrent(handle); }

    public int ordinal() { return ordinal; }

    /** The CUdevice handle. */
    public int device() { return device; }

    public MemorySegment handle() { return handle; }

    public String deviceName() { return Cuda.deviceName(device); }

    /** Compute capability as major*10+minor, e.g. 90 for an H100. */
    public int computeCapability() {
        return Cuda.deviceAttribute(Cuda.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device) * 10
                + Cuda.deviceAttribute(Cuda.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
    }

    public int multiprocessorCount() { return Cuda.deviceAttribute(Cuda.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device); }

    public long totalMemory() { return Cuda.deviceTotalMem(device); }

    public void synchronize() { Cuda.contextSynchronize(); }

    @Override public void close() {
        if (closed) return;
        closed = true;
        Cuda.primaryContextRelease(device);
    }
}
