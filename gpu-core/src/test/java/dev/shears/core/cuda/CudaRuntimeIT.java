package dev.shears.core.cuda;

import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.nativebind.CudaEvent;
import dev.shears.nativebind.CudaGraph;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The backend's runtime on a real device: allocator reuse and accounting, leaks, OOM, views, graphs, events. */
class CudaRuntimeIT {

    @Test
    void freedTensorsAreReusedAndAccounted() {
        try (CudaBackend b = GpuTestSupport.strictBackend()) {
            CudaAllocator a = b.allocator();
            long before = a.deviceAllocations();
            Tensor t = b.allocate(Shape.of(1000), DType.FLOAT32);
            long p = ((CudaTensor) t).pointer();
            long inUse = a.bytesInUse();
            t.close();
            assertEquals(inUse - 4096, a.bytesInUse());
            Tensor u = b.allocate(Shape.of(1000), DType.FLOAT32);
            assertEquals(p, ((CudaTensor) u).pointer(), "the freed block is handed out again");
            assertEquals(before + 1, a.deviceAllocations(), "only the first allocation reached cuMemAlloc");
            assertArrayEquals(new float[1000], b.download(u), "a reused block is zero-filled again");
            u.close();
        }
    }

    @Test
    void strictCloseNamesLeakedTensors() {
        CudaBackend b = GpuTestSupport.strictBackend();
        b.allocate(Shape.of(256), DType.FLOAT32);
        IllegalStateException e = assertThrows(IllegalStateException.class, b::close);
        assertTrue(e.getMessage().contains("1 block(s) still allocated, 1024 bytes"), e.getMessage());
    }

    @Test
    void outOfMemoryNamesTheSizeAndWhatIsInUse() {
        try (CudaBackend b = GpuTestSupport.strictBackend()) {
            CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class,
                    () -> b.allocate(Shape.of(1 << 30, 1 << 10), DType.FLOAT32)); // 4 TiB
            assertTrue(e.getMessage().contains("asked for " + (4L << 40) + " bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
    }

    @Test
    void viewsShareStorageAndNeverFreeIt() {
        try (CudaBackend b = GpuTestSupport.strictBackend()) {
            float[] v = Parity.uniform(12, 1, -1, 1);
            Tensor t = b.upload(v, Shape.of(3, 4));
            Tensor view = t.reshape(Shape.of(12));
            view.close(); // a view's close frees nothing
            b.scale(t, 2f);
            float[] got = b.download(t);
            for (int i = 0; i < 12; i++) assertEquals(2 * v[i], got[i]);
            t.close();
            assertThrows(IllegalStateException.class, () -> ((CudaTensor) view).pointer(), "a view dies with its owner");
        }
    }

    @Test
    void aCapturedGraphReplaysTheStepAndEventsTimeIt() {
        try (CudaBackend b = GpuTestSupport.strictBackend();
             Tensor x = b.upload(new float[] {1, 2, 3, 4}, Shape.of(4));
             Tensor y = b.allocate(Shape.of(4), DType.FLOAT32)) {
            b.synchronize();
            try (CudaGraph g = CudaGraph.capture(b.stream(), () -> {
                b.axpy(1f, x, y); // y += x
                b.scale(y, 2f);   // y *= 2
            }); CudaEvent start = CudaEvent.create(); CudaEvent end = CudaEvent.create()) {
                assertArrayEquals(new float[4], b.download(y), "capture records, it does not run");
                start.record(b.stream());
                g.launch(b.stream());
                g.launch(b.stream());
                end.record(b.stream());
                end.synchronize();
                assertTrue(end.millisSince(start) >= 0);
                // y = ((0 + x) * 2 + x) * 2 = 6x
                assertArrayEquals(new float[] {6, 12, 18, 24}, b.download(y));
            }
        }
    }

    @Test
    void nameDescribesTheDevice() {
        try (CudaBackend b = GpuTestSupport.strictBackend()) {
            assertEquals("cuda", b.kind());
            assertTrue(b.name().startsWith("cuda (") && b.name().contains("sm_"), b.name());
        }
    }
}
