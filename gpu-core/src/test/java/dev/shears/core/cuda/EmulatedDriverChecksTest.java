package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import dev.shears.kernels.KernelImage;
import dev.shears.nativebind.Cuda;
import dev.shears.nativebind.CudaContext;
import dev.shears.nativebind.CudaEvent;
import dev.shears.nativebind.CudaException;
import dev.shears.nativebind.CudaGraph;
import dev.shears.nativebind.CudaModule;
import dev.shears.nativebind.CudaStream;
import dev.shears.nativebind.KernelArgs;
import dev.shears.nativebind.PinnedBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The emulator itself: that the other Emulated*Test classes really run through it, and that it
 * rejects what a GPU rejects (so that passing there means something): launch limits, unknown
 * kernels, copies outside an allocation, undefined warp behaviour (a sticky launch failure that
 * surfaces at the next synchronisation and is cleared with the context), and asynchrony (work
 * runs only when the host waits, so a pinned buffer reused too early shows), and the deliberately
 * wrong kernels of the emulator's selftest_kernels.cu (stale shared memory, a missing
 * __syncthreads, a deadlock) are caught.
 */
class EmulatedDriverChecksTest {
    private CudaContext context;
    private CudaModule module;
    private CudaStream stream;

    @BeforeAll static void emulator() { CudaEmulator.require(); }

    @BeforeEach void open() {
        GpuTestSupport.assumeCuda();
        context = CudaContext.open(0);
        context.makeCurrent();
        module = KernelImage.load();
        stream = CudaStream.create();
    }

    @AfterEach void close() {
        if (stream != null) stream.close();
        if (module != null) module.close();
        if (context != null) context.close();
    }

    /**
     * Destroys the context (this test holds its last reference, so it goes with its sticky error;
     * the stream and module go with it) and opens a fresh one with the kernels loaded.
     */
    private void reopenContext() {
        stream = null;
        module = null;
        context.close();
        context = CudaContext.open(0);
        module = KernelImage.load();
        stream = CudaStream.create();
    }

    @Test
    void theBackendRunsOnTheEmulator() {
        try (CudaBackend b = CudaBackend.create(0, CudaBackend.LeakPolicy.STRICT)) {
            assertTrue(b.name().contains("Shears CPU emulator") && b.name().contains("sm_90"), b.name());
        }
    }

    @Test
    void launchLimitsAreEnforced() {
        MemorySegment f = module.function("shears_scale");
        long x = Cuda.memAlloc(1024);
        try (KernelArgs args = new KernelArgs(4)) {
            args.ptr(x).f32(2f).i64(256);
            CudaException e = assertThrows(CudaException.class, () -> Cuda.launchKernel(f, 1, 1, 1, 1025, 1, 1, 0,
                    stream.handle(), args.pointers(), "shears_scale"));
            assertEquals("CUDA_ERROR_INVALID_VALUE", e.errorName(), e.getMessage());
            e = assertThrows(CudaException.class, () -> Cuda.launchKernel(f, 1, 1, 1, 32, 1, 1, 64 * 1024,
                    stream.handle(), args.pointers(), "shears_scale"));
            assertEquals("CUDA_ERROR_INVALID_VALUE", e.errorName(), e.getMessage());
            Cuda.launchKernel(f, 1, 1, 1, 256, 1, 1, 0, stream.handle(), args.pointers(), "shears_scale");
            stream.synchronize();
        } finally {
            Cuda.memFree(x);
        }
    }

    @Test
    void unknownKernelsAndStrayCopiesFail() {
        CudaException e = assertThrows(CudaException.class, () -> module.function("shears_no_such_kernel"));
        assertEquals("CUDA_ERROR_NOT_FOUND", e.errorName(), e.getMessage());
        long x = Cuda.memAlloc(100);
        try (PinnedBuffer host = PinnedBuffer.allocate(200)) {
            e = assertThrows(CudaException.class, () -> Cuda.memcpyHtoDAsync(x, host.segment(), 101, stream.handle()));
            assertEquals("CUDA_ERROR_INVALID_VALUE", e.errorName(), e.getMessage());
            e = assertThrows(CudaException.class, () -> Cuda.memcpyDtoHAsync(host.segment(), x + 4, 100, stream.handle()));
            assertEquals("CUDA_ERROR_INVALID_VALUE", e.errorName(), e.getMessage());
        } finally {
            Cuda.memFree(x);
        }
        e = assertThrows(CudaException.class, () -> Cuda.memFree(x));
        assertEquals("CUDA_ERROR_INVALID_VALUE", e.errorName(), "a double free: " + e.getMessage());
    }

    @Test
    void undefinedWarpBehaviourFailsTheContextUntilItIsReleased() {
        // shears_softmax shuffles with a full mask; a block of 48 threads has a partial second warp,
        // so lanes 16..31 of the mask do not exist: undefined on a GPU, a launch failure here.
        MemorySegment f = module.function("shears_softmax");
        long x = Cuda.memAlloc(4 * 64);
        try (KernelArgs args = new KernelArgs(8)) {
            args.ptr(x).ptr(x).i32(2).i32(32).i32(0);
            Cuda.memsetD32Async(x, 0, 64, stream.handle());
            Cuda.launchKernel(f, 1, 1, 1, 48, 1, 1, 0, stream.handle(), args.pointers(), "shears_softmax");
            CudaException e = assertThrows(CudaException.class, stream::synchronize);
            assertEquals("CUDA_ERROR_LAUNCH_FAILED", e.errorName(), e.getMessage());
            e = assertThrows(CudaException.class, () -> Cuda.memAlloc(16));
            assertEquals("CUDA_ERROR_LAUNCH_FAILED", e.errorName(), "the error is sticky: " + e.getMessage());
        }
        // releasing the context (the last reference) destroys it with its error
        stream = null;
        module = null;
        context.close();
        context = CudaContext.open(0);
        context.makeCurrent();
        module = KernelImage.load();
        stream = CudaStream.create();
        Cuda.memFree(Cuda.memAlloc(16));
    }

    @Test
    void workRunsOnlyWhenTheHostWaits() {
        long x = Cuda.memAlloc(4);
        try (PinnedBuffer up = PinnedBuffer.allocate(4); PinnedBuffer down = PinnedBuffer.allocate(4);
             CudaEvent start = CudaEvent.create(); CudaEvent end = CudaEvent.create()) {
            up.segment().set(JAVA_FLOAT, 0, 1f);
            down.segment().set(JAVA_FLOAT, 0, -1f);
            start.record(stream);
            Cuda.memcpyHtoDAsync(x, up.segment(), 4, stream.handle());
            up.segment().set(JAVA_FLOAT, 0, 2f); // too early: the copy has not run
            Cuda.memcpyDtoHAsync(down.segment(), x, 4, stream.handle());
            end.record(stream);
            assertEquals(-1f, down.segment().get(JAVA_FLOAT, 0), "nothing has run before the host waits");
            CudaException e = assertThrows(CudaException.class, () -> end.millisSince(start));
            assertEquals("CUDA_ERROR_NOT_READY", e.errorName(), e.getMessage());
            end.synchronize();
            assertEquals(2f, down.segment().get(JAVA_FLOAT, 0), "the copy read the pinned buffer when it ran");
            assertTrue(end.millisSince(start) >= 0);
        } finally {
            Cuda.memFree(x);
        }
    }

    /** Launches a selftest kernel over one int/float buffer of {@code n} words and returns it. */
    private MemorySegment runSelftest(String kernel, int grid, int block, int n, PinnedBuffer host) {
        MemorySegment f = module.function(kernel);
        long out = Cuda.memAlloc(4L * n);
        try (KernelArgs args = new KernelArgs(1)) {
            args.ptr(out);
            Cuda.memsetD32Async(out, 0, n, stream.handle());
            Cuda.launchKernel(f, grid, 1, 1, block, 1, 1, 0, stream.handle(), args.pointers(), kernel);
            Cuda.memcpyDtoHAsync(host.segment(), out, 4L * n, stream.handle());
            stream.synchronize();
            return host.segment();
        } finally {
            Cuda.memFree(out);
        }
    }

    @Test
    void sharedMemoryIsPoisonedBetweenBlocks() {
        try (PinnedBuffer host = PinnedBuffer.allocate(8)) {
            MemorySegment out = runSelftest("shears_emu_selftest_stale_shared", 2, 32, 2, host);
            assertEquals(1f, out.get(JAVA_FLOAT, 0));
            assertTrue(Float.isNaN(out.get(JAVA_FLOAT, 4)), "block 1 reads poison, not block 0's write: " + out.get(JAVA_FLOAT, 4));
        }
    }

    @Test
    void aMissingSyncthreadsShowsInOneOfTwoLaunches() {
        boolean stale = false;
        try (PinnedBuffer host = PinnedBuffer.allocate(4 * 64)) {
            for (int launch = 0; launch < 2; launch++) {
                MemorySegment out = runSelftest("shears_emu_selftest_missing_sync", 1, 64, 64, host);
                for (int t = 0; t < 64; t++) stale |= out.getAtIndex(JAVA_INT, t) != 7;
            }
        }
        assertTrue(stale, "some thread read s before thread 0 wrote it");
    }

    @Test
    void aDeadlockFailsTheLaunch() {
        MemorySegment f = module.function("shears_emu_selftest_deadlock");
        long out = Cuda.memAlloc(4 * 64); // freed with the context below (every call fails once the error is sticky)
        try (KernelArgs args = new KernelArgs(1)) {
            args.ptr(out);
            Cuda.launchKernel(f, 1, 1, 1, 64, 1, 1, 0, stream.handle(), args.pointers(), "shears_emu_selftest_deadlock");
            CudaException e = assertThrows(CudaException.class, stream::synchronize);
            assertEquals("CUDA_ERROR_LAUNCH_FAILED", e.errorName(), e.getMessage());
        }
        reopenContext();
    }

    @Test
    void aKernelRunningPastItsBufferFaultsWithIllegalAddress() {
        MemorySegment f = module.function("shears_emu_selftest_overrun");
        long x = Cuda.memAlloc(4 * 1000); // freed with the context below
        try (KernelArgs args = new KernelArgs(2)) {
            args.ptr(x).i32(1000);
            Cuda.launchKernel(f, 1, 1, 1, 128, 1, 1, 0, stream.handle(), args.pointers(), "shears_emu_selftest_overrun");
            CudaException e = assertThrows(CudaException.class, stream::synchronize);
            assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", e.errorName(), e.getMessage());
        }
        reopenContext();
        // the process is fine afterwards: the fault was the kernel's, contained by the emulator
        long y = Cuda.memAlloc(64);
        Cuda.memsetD32Async(y, 0, 16, stream.handle());
        stream.synchronize();
        Cuda.memFree(y);
    }

    @Test
    void aVectorLoadFromAnUnalignedAddressFaultsWithMisalignedAddress() {
        MemorySegment f = module.function("shears_emu_selftest_misaligned");
        long x = Cuda.memAlloc(64); // freed with the context below
        try (KernelArgs args = new KernelArgs(1)) {
            args.ptr(x);
            Cuda.memsetD32Async(x, 0, 16, stream.handle());
            Cuda.launchKernel(f, 1, 1, 1, 32, 1, 1, 0, stream.handle(), args.pointers(), "shears_emu_selftest_misaligned");
            CudaException e = assertThrows(CudaException.class, stream::synchronize);
            assertEquals("CUDA_ERROR_MISALIGNED_ADDRESS", e.errorName(), e.getMessage());
        }
        reopenContext();
    }

    @Test
    void theVectorisedSgdKernelOnAnUnalignedViewFaults() {
        // what OptimizerKernels.vectorizable guards against: shears_sgd_update's float4 loads on a
        // view starting one float into an allocation
        MemorySegment f = module.function("shears_sgd_update");
        long w = Cuda.memAlloc(4 * 64), g = Cuda.memAlloc(4 * 64); // freed with the context below
        try (KernelArgs args = new KernelArgs(10)) {
            Cuda.memsetD32Async(w, 0, 64, stream.handle());
            Cuda.memsetD32Async(g, 0, 64, stream.handle());
            args.ptr(w + 4).ptr(g + 4).ptr(0).ptr(0).i64(32).f32(0.1f).f32(0f).f32(0f).i32(0).ptr(0);
            Cuda.launchKernel(f, 1, 1, 1, 256, 1, 1, 0, stream.handle(), args.pointers(), "shears_sgd_update");
            CudaException e = assertThrows(CudaException.class, stream::synchronize);
            assertEquals("CUDA_ERROR_MISALIGNED_ADDRESS", e.errorName(), e.getMessage());
        }
        reopenContext();
    }

    @Test
    void anEventRecordedInACaptureCannotBeWaitedForOrTimed() {
        try (CudaEvent start = CudaEvent.create(); CudaEvent captured = CudaEvent.create()) {
            start.record(stream);
            CudaException e = assertThrows(CudaException.class, () -> CudaGraph.capture(stream, () -> {
                captured.record(stream);
                captured.synchronize();
            }));
            assertEquals("CUDA_ERROR_CAPTURED_EVENT", e.errorName(), e.getMessage());
            // still a captured event after the capture ended, until recorded outside one
            e = assertThrows(CudaException.class, () -> captured.millisSince(start));
            assertEquals("CUDA_ERROR_CAPTURED_EVENT", e.errorName(), e.getMessage());
            captured.record(stream);
            captured.synchronize();
            assertTrue(captured.millisSince(start) >= 0);
        }
    }

    @Test
    void aCaptureRefusesCopiesWithPageableHostMemory() {
        long x = Cuda.memAlloc(64);
        try (Arena arena = Arena.ofConfined(); PinnedBuffer pinned = PinnedBuffer.allocate(64)) {
            MemorySegment pageable = arena.allocate(64);
            CudaException e = assertThrows(CudaException.class,
                    () -> CudaGraph.capture(stream, () -> Cuda.memcpyHtoDAsync(x, pageable, 64, stream.handle())));
            assertEquals("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", e.errorName(), e.getMessage());
            e = assertThrows(CudaException.class,
                    () -> CudaGraph.capture(stream, () -> Cuda.memcpyDtoHAsync(pageable, x, 64, stream.handle())));
            assertEquals("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", e.errorName(), e.getMessage());
            // pinned memory is what a graph copies from: read at each replay
            pinned.segment().set(JAVA_FLOAT, 0, 1f);
            try (CudaGraph g = CudaGraph.capture(stream, () -> {
                Cuda.memcpyHtoDAsync(x, pinned.segment(), 4, stream.handle());
                Cuda.memcpyDtoHAsync(pinned.segment().asSlice(4), x, 4, stream.handle());
            })) {
                pinned.segment().set(JAVA_FLOAT, 0, 2f);
                g.launch(stream);
                stream.synchronize();
                assertEquals(2f, pinned.segment().get(JAVA_FLOAT, 4), "the replay read the pinned buffer when it ran");
            }
        } finally {
            Cuda.memFree(x);
        }
    }
}
