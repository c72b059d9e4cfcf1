package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA driver API ({@code libcuda.so.1}), bound by hand with java.lang.foreign. Signatures are
 * those of cuda.h (CUDA 13); where the driver exports versioned names, the {@code _v2} symbol is
 * bound first. Handles (CUcontext, CUstream, ...) are {@link MemorySegment} addresses, device
 * pointers ({@code CUdeviceptr}) are {@code long}. Every status is checked: a failure throws a
 * {@link CudaException} naming the function and the driver's own error name and string.
 * The method handles live in a holder class, so the library loads on first use.
 */
public final class Cuda {
    private Cuda() {}

    // Values from cuda.h.
    public static final int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int CU_STREAM_DEFAULT = 0;
    public static final int CU_STREAM_NON_BLOCKING = 1;
    public static final int CU_EVENT_DEFAULT = 0;
    public static final int CU_MEMHOSTALLOC_PORTABLE = 1;
    public static final int CU_STREAM_CAPTURE_MODE_GLOBAL = 0;
    public static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;

    private static final class H {
        static final LoadedLibrary LIB = LoadedLibrary.loadOrFailure(CudaLibrary.DRIVER);
        static final MethodHandle cuGetErrorName = LIB.downcall(FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), "cuGetErrorName");
        static final MethodHandle cuGetErrorString = LIB.downcall(FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), "cuGetErrorString");
        static final MethodHandle cuInit = LIB.downcall(FunctionDescriptor.of(JAVA_INT, JAVA_INT), "cuInit");
        static final MethodHandle cuDriverGetVersion = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuDriverGetVersion");
        static final MethodHandle cuDeviceGetCount = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuDeviceGetCount");
        static final MethodHandle cuDeviceGet = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDeviceGet");
        static final MethodHandle cuDeviceGetName = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), "cuDeviceGetName");
        static final MethodHandle cuDeviceGetAttribute = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), "cuDeviceGetAttribute");
        static final MethodHandle cuDeviceTotalMem = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDeviceTotalMem_v2", "cuDeviceTotalMem");
        static final MethodHandle cuDevicePrimaryCtxRetain = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDevicePrimaryCtxRetain");
        static final MethodHandle cuDevicePrimaryCtxRelease = LIB.downcall(FunctionDescriptor.of(JAVA_INT, JAVA_INT), "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
        static final MethodHandle cuCtxSetCurrent = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuCtxSetCurrent");
        static final MethodHandle cuCtxSynchronize = LIB.downcall(FunctionDescriptor.of(JAVA_INT), "cuCtxSynchronize");
        static final MethodHandle cuStreamCreate = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuStreamCreate");
        static final MethodHandle cuStreamDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuStreamDestroy_v2", "cuStreamDestroy");
        static final MethodHandle cuStreamSynchronize = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuStreamSynchronize");
        static final MethodHandle cuStreamWaitEvent = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), "cuStreamWaitEvent");
        static final MethodHandle cuEventCreate = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuEventCreate");
        static final MethodHandle cuEventRecord = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuEventRecord");
        static final MethodHandle cuEventSynchronize = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuEventSynchronize");
        static final MethodHandle cuEventElapsedTime = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuEventElapsedTime_v2", "cuEventElapsedTime");
        static final MethodHandle cuEventDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuEventDestroy_v2", "cuEventDestroy");
        static final MethodHandle cuMemGetInfo = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuMemGetInfo_v2", "cuMemGetInfo");
        static final MethodHandle cuMemAlloc = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), "cuMemAlloc_v2", "cuMemAlloc");
        static final MethodHandle cuMemFree = LIB.downcall(FunctionDescriptor.of(JAVA_INT, JAVA_LONG), "cuMemFree_v2", "cuMemFree");
        static final MethodHandle cuMemHostAlloc = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), "cuMemHostAlloc");
        static final MethodHandle cuMemFreeHost = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuMemFreeHost");
        static final MethodHandle cuMemcpyHtoDAsync = LIB.downcall(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS), "cuMemcpyHtoDAsync_v2", "cuMemcpyHtoDAsync");
        static final MethodHandle cuMemcpyDtoHAsync = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS), "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoHAsync");
        static final MethodHandle cuMemcpyDtoDAsync = LIB.downcall(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS), "cuMemcpyDtoDAsync_v2", "cuMemcpyDtoDAsync");
        static final MethodHandle cuMemsetD8Async = LIB.downcall(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS), "cuMemsetD8Async");
        static final MethodHandle cuMemsetD32Async = LIB.downcall(FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS), "cuMemsetD32Async");
        static final MethodHandle cuModuleLoadData = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuModuleLoadData");
        static final MethodHandle cuModuleUnload = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuModuleUnload");
        static final MethodHandle cuModuleGetFunction = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuModuleGetFunction");
        static final MethodHandle cuLaunchKernel = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuLaunchKernel");
        static final MethodHandle cuStreamBeginCapture = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuStreamBeginCapture_v2", "cuStreamBeginCapture");
        static final MethodHandle cuStreamEndCapture = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuStreamEndCapture");
        static final MethodHandle cuGraphInstantiate = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), "cuGraphInstantiateWithFlags");
        static final MethodHandle cuGraphLaunch = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cuGraphLaunch");
        static final MethodHandle cuGraphExecDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuGraphExecDestroy");
        static final MethodHandle cuGraphDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cuGraphDestroy");
    }

    /** Asks the driver to describe its statuses (cuGetErrorName / cuGetErrorString). */
    static final StatusDescriber DESCRIBER = new StatusDescriber() {
        @Override public String name(int code) { return describe(H.cuGetErrorName, code); }
        @Override public String description(int code) { return describe(H.cuGetErrorString, code); }
    };

    private static String describe(MethodHandle fn, int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int rc = (int) fn.invokeExact(code, p);
            return rc == 0 ? Native.cString(p.get(ADDRESS, 0)) : null;
        } catch (Throwable t) {
            return null;
        }
    }

    /** Throws a {@link CudaException} for a non-zero CUresult. */
    public static void check(int rc, String function) {
        if (rc != 0) throw StatusDescriber.toException(CudaLibrary.DRIVER, DESCRIBER, function, rc, null);
    }

    static void check(int rc, String function, String context) {
        if (rc != 0) throw StatusDescriber.toException(CudaLibrary.DRIVER, DESCRIBER, function, rc, context);
    }

    // ------------------------------------------------------------------ availability

    /** Probed once: the driver loads, cuInit succeeds and there is at least one device. */
    private static final class Probe {
        static final Throwable CAUSE = probe();

        private static Throwable probe() {
            try {
                init();
                if (deviceCount() < 1) return new IllegalStateException("the CUDA driver reports no device");
                return null;
            } catch (RuntimeException | LinkageError e) {
                return e;
            }
        }
    }

    /** Whether the driver loads and sees a device (probed once per JVM). */
    public static boolean isAvailable() { return Probe.CAUSE == null; }

    /** Why CUDA is unavailable (one line plus the places tried), or null when it is available. */
    public static String unavailabilityCause() {
        Throwable t = Probe.CAUSE;
        if (t == null) return null;
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** The exception that made CUDA unavailable, or null. */
    public static Throwable unavailabilityException() { return Probe.CAUSE; }

    /** The loaded driver library, or its load failure. */
    public static LoadedLibrary library() { return H.LIB; }

    // ------------------------------------------------------------------ init and devices

    public static void init() {
        try { check((int) H.cuInit.invokeExact(0), "cuInit"); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** The driver's CUDA version, e.g. 13000 for 13.0. */
    public static int driverVersion() { return intOut(H.cuDriverGetVersion, "cuDriverGetVersion"); }

    public static int deviceCount() { return intOut(H.cuDeviceGetCount, "cuDeviceGetCount"); }

    private static int intOut(MethodHandle fn, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) fn.invokeExact(out), name);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** The CUdevice handle of device {@code ordinal}. */
    public static int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) H.cuDeviceGet.invokeExact(out, ordinal), "cuDeviceGet", "ordinal " + ordinal);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(256);
            check((int) H.cuDeviceGetName.invokeExact(out, 256, device), "cuDeviceGetName");
            return out.getString(0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static int deviceAttribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) H.cuDeviceGetAttribute.invokeExact(out, attribute, device), "cuDeviceGetAttribute", "attribute " + attribute);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static long deviceTotalMem(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) H.cuDeviceTotalMem.invokeExact(out, device), "cuDeviceTotalMem_v2");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    // ------------------------------------------------------------------ contexts

    public static MemorySegment primaryContextRetain(int device) {
        return handleOut(H.cuDevicePrimaryCtxRetain, device, "cuDevicePrimaryCtxRetain");
    }

    public static void primaryContextRelease(int device) {
        try { check((int) H.cuDevicePrimaryCtxRelease.invokeExact(device), "cuDevicePrimaryCtxRelease_v2"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void contextSetCurrent(MemorySegment context) {
        try { check((int) H.cuCtxSetCurrent.invokeExact(context), "cuCtxSetCurrent"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void contextSynchronize() {
        try { check((int) H.cuCtxSynchronize.invokeExact(), "cuCtxSynchronize"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    private static MemorySegment handleOut(MethodHandle fn, int arg, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) fn.invokeExact(out, arg), name);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    private static void handleCall(MethodHandle fn, MemorySegment handle, String name) {
        try { check((int) fn.invokeExact(handle), name); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    // ------------------------------------------------------------------ streams and events

    public static MemorySegment streamCreate(int flags) { return handleOut(H.cuStreamCreate, flags, "cuStreamCreate"); }

    public static void streamDestroy(MemorySegment stream) { handleCall(H.cuStreamDestroy, stream, "cuStreamDestroy_v2"); }

    public static void streamSynchronize(MemorySegment stream) { handleCall(H.cuStreamSynchronize, stream, "cuStreamSynchronize"); }

    public static void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        try { check((int) H.cuStreamWaitEvent.invokeExact(stream, event, 0), "cuStreamWaitEvent"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static MemorySegment eventCreate(int flags) { return handleOut(H.cuEventCreate, flags, "cuEventCreate"); }

    public static void eventRecord(MemorySegment event, MemorySegment stream) {
        try { check((int) H.cuEventRecord.invokeExact(event, stream), "cuEventRecord"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void eventSynchronize(MemorySegment event) { handleCall(H.cuEventSynchronize, event, "cuEventSynchronize"); }

    /** Milliseconds between two recorded, completed events. */
    public static float eventElapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_FLOAT);
            check((int) H.cuEventElapsedTime.invokeExact(out, start, end), "cuEventElapsedTime_v2");
            return out.get(JAVA_FLOAT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void eventDestroy(MemorySegment event) { handleCall(H.cuEventDestroy, event, "cuEventDestroy_v2"); }

    // ------------------------------------------------------------------ memory

    /** {free, total} device memory in bytes for the current context. */
    public static long[] memGetInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            check((int) H.cuMemGetInfo.invokeExact(free, total), "cuMemGetInfo_v2");
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Allocates device memory; the exception for a failure names the size. */
    public static long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) H.cuMemAlloc.invokeExact(out, bytes), "cuMemAlloc_v2", bytes + " bytes");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memFree(long devicePointer) {
        try { check((int) H.cuMemFree.invokeExact(devicePointer), "cuMemFree_v2"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Page-locked host memory of {@code bytes}, as a segment of that size. */
    public static MemorySegment memHostAlloc(long bytes, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cuMemHostAlloc.invokeExact(out, bytes, flags), "cuMemHostAlloc", bytes + " bytes");
            return out.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memFreeHost(MemorySegment host) { handleCall(H.cuMemFreeHost, host, "cuMemFreeHost"); }

    /** Async copy from native (ideally pinned) host memory; a Java heap segment is refused (see {@link #copyToDevice}). */
    public static void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        requireNative(src, "cuMemcpyHtoDAsync_v2", "copyToDevice");
        try { check((int) H.cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync_v2", bytes + " bytes"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Async copy into native (ideally pinned) host memory; a Java heap segment is refused (see {@link #copyFromDevice}). */
    public static void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        requireNative(dst, "cuMemcpyDtoHAsync_v2", "copyFromDevice");
        try { check((int) H.cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync_v2", bytes + " bytes"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * Copies {@code bytes} of host memory, a Java array's segment or native memory, to the device
     * and waits for {@code stream}: the driver cannot read the Java heap (the downcall refuses
     * heap segments), so a heap segment goes through a temporary native buffer. For tests, tools
     * and one-off copies; the training path streams through pinned buffers instead.
     */
    public static void copyToDevice(long dst, MemorySegment src, long bytes, CudaStream stream) {
        if (src.isNative()) {
            memcpyHtoDAsync(dst, src, bytes, stream.handle());
            stream.synchronize();
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = a.allocate(bytes, 16);
            tmp.copyFrom(src.asSlice(0, bytes));
            memcpyHtoDAsync(dst, tmp, bytes, stream.handle());
            stream.synchronize(); // before the arena frees tmp
        }
    }

    /** The reverse of {@link #copyToDevice}: device bytes into host memory, heap or native, waiting for {@code stream}. */
    public static void copyFromDevice(MemorySegment dst, long src, long bytes, CudaStream stream) {
        if (dst.isNative()) {
            memcpyDtoHAsync(dst, src, bytes, stream.handle());
            stream.synchronize();
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tmp = a.allocate(bytes, 16);
            memcpyDtoHAsync(tmp, src, bytes, stream.handle());
            stream.synchronize();
            dst.asSlice(0, bytes).copyFrom(tmp);
        }
    }

    private static void requireNative(MemorySegment host, String function, String instead) {
        if (!host.isNative())
            throw new IllegalArgumentException(function + ": the host buffer is a Java heap segment, which the driver cannot read;"
                    + " pass native (pinned) memory, or use Cuda." + instead + " for a Java array");
    }

    public static void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        try { check((int) H.cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync_v2", bytes + " bytes"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memsetD8Async(long dst, byte value, long count, MemorySegment stream) {
        try { check((int) H.cuMemsetD8Async.invokeExact(dst, value, count, stream), "cuMemsetD8Async"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Sets {@code count} 32-bit words (e.g. {@code Float.floatToRawIntBits(v)} for floats). */
    public static void memsetD32Async(long dst, int value, long count, MemorySegment stream) {
        try { check((int) H.cuMemsetD32Async.invokeExact(dst, value, count, stream), "cuMemsetD32Async"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    // ------------------------------------------------------------------ modules and launches

    /** Loads a cubin, PTX or fatbin image (the driver picks the code for the current device). */
    public static MemorySegment moduleLoadData(MemorySegment image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cuModuleLoadData.invokeExact(out, image), "cuModuleLoadData", image.byteSize() + "-byte image");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void moduleUnload(MemorySegment module) { handleCall(H.cuModuleUnload, module, "cuModuleUnload"); }

    public static MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cuModuleGetFunction.invokeExact(out, module, a.allocateFrom(name)), "cuModuleGetFunction", "kernel " + name);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * Launches a kernel. {@code params} is the {@code void**} array of pointers to each argument
     * (see {@link KernelArgs}).
     */
    public static void launchKernel(MemorySegment function, int gridX, int gridY, int gridZ,
                                    int blockX, int blockY, int blockZ, int sharedBytes,
                                    MemorySegment stream, MemorySegment params, String kernelName) {
        int rc;
        try {
            rc = (int) H.cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                    sharedBytes, stream, params, MemorySegment.NULL);
        } catch (Throwable t) { throw Native.rethrow(t); }
        if (rc != 0) {
            check(rc, "cuLaunchKernel", kernelName + " grid " + gridX + "x" + gridY + "x" + gridZ
                    + " block " + blockX + "x" + blockY + "x" + blockZ + " shared " + sharedBytes);
        }
    }

    // ------------------------------------------------------------------ graphs

    public static void streamBeginCapture(MemorySegment stream, int mode) {
        try { check((int) H.cuStreamBeginCapture.invokeExact(stream, mode), "cuStreamBeginCapture_v2"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Ends a capture and returns the CUgraph. */
    public static MemorySegment streamEndCapture(MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cuStreamEndCapture.invokeExact(stream, out), "cuStreamEndCapture");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Instantiates a graph into an executable graph (cuGraphInstantiateWithFlags, flags 0). */
    public static MemorySegment graphInstantiate(MemorySegment graph) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cuGraphInstantiate.invokeExact(out, graph, 0L), "cuGraphInstantiateWithFlags");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void graphLaunch(MemorySegment graphExec, MemorySegment stream) {
        try { check((int) H.cuGraphLaunch.invokeExact(graphExec, stream), "cuGraphLaunch"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void graphExecDestroy(MemorySegment graphExec) { handleCall(H.cuGraphExecDestroy, graphExec, "cuGraphExecDestroy"); }

    public static void graphDestroy(MemorySegment graph) { handleCall(H.cuGraphDestroy, graph, "cuGraphDestroy"); }
}
