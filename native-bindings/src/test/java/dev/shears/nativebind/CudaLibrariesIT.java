package dev.shears.nativebind;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The bindings against the real driver, cuBLAS and cuSPARSE: memory round trips, pinned memory,
 * events, status errors with the library's own words, SGEMM and SpMV/SpMM against host results.
 * Skips without CUDA; fails instead under -Dshears.requireGpu=true (this module cannot use
 * gpu-core's GpuTestSupport, so the same rule is restated here).
 */
class CudaLibrariesIT {

    @BeforeEach
    void requireCuda() {
        if (Cuda.isAvailable()) return;
        DeviceArrays.skipOrFail("CUDA", Cuda.unavailabilityCause());
    }

    private static float[] rand(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    @Test
    void driverMemoryPinnedBuffersAndEvents() {
        try (CudaContext ctx = CudaContext.open(0); CudaStream s = CudaStream.create();
             PinnedBuffer pinned = PinnedBuffer.allocate(4096); CudaEvent a = CudaEvent.create(); CudaEvent b = CudaEvent.create()) {
            assertFalse(ctx.deviceName().isBlank());
            assertTrue(ctx.computeCapability() >= 80, "sm_" + ctx.computeCapability() + ": the fatbin carries sm_80+ code");
            assertTrue(ctx.totalMemory() > 0);
            assertTrue(Cuda.driverVersion() >= 13000, "driver CUDA version " + Cuda.driverVersion());
            long d = Cuda.memAlloc(4096);
            try {
                Cuda.memsetD32Async(d, Float.floatToRawIntBits(1.5f), 1024, s.handle());
                a.record(s);
                Cuda.memcpyDtoHAsync(pinned.segment(), d, 4096, s.handle());
                b.record(s);
                b.synchronize();
                for (int i = 0; i < 1024; i++) assertEquals(1.5f, pinned.segment().getAtIndex(JAVA_FLOAT, i));
                assertTrue(b.millisSince(a) >= 0);
                Cuda.memsetD8Async(d, (byte) 7, 4, s.handle());
                s.synchronize();
                Cuda.memcpyDtoHAsync(pinned.segment(), d, 4, s.handle());
                s.synchronize();
                assertEquals(0x07070707, pinned.segment().get(JAVA_INT, 0));
            } finally {
                Cuda.memFree(d);
            }
        }
    }

    @Test
    void aFailedCallCarriesTheDriversOwnNameAndString() {
        try (CudaContext ctx = CudaContext.open(0)) {
            CudaException e = assertThrows(CudaException.class, () -> Cuda.memAlloc(1L << 50)); // 1 PiB
            assertTrue(e.isOutOfMemory(), e.getMessage());
            assertEquals("cuMemAlloc_v2", e.function());
            assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
            assertFalse(e.errorString().isBlank(), "cuGetErrorString's text");
            CudaException bad = assertThrows(CudaException.class, () -> CudaModule.load(new byte[] {1, 2, 3, 4}, "garbage"));
            assertTrue(bad.getMessage().contains("garbage"), bad.getMessage());
        }
    }

    @Test
    void cublasSgemmMatchesTheHost() {
        int m = 37, n = 53, k = 29;
        float[] a = rand(m * k, 1), b = rand(k * n, 2); // column-major
        try (CudaContext ctx = CudaContext.open(0); CudaStream s = CudaStream.create(); CublasHandle h = new CublasHandle(s)) {
            long da = DeviceArrays.upload(a, s), db = DeviceArrays.upload(b, s), dc = Cuda.memAlloc(4L * m * n);
            try {
                h.sgemmStridedBatched(Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_N, m, n, k, 1f, da, m, 0, db, k, 0, 0f, dc, m, 0, 1);
                float[] c = DeviceArrays.downloadFloats(dc, m * n, s);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        double e = 0;
                        for (int p = 0; p < k; p++) e += (double) a[i + p * m] * b[p + j * k];
                        assertEquals(e, c[i + j * m], 1e-4, "C[" + i + "," + j + "]");
                    }
                CudaException err = assertThrows(CudaException.class, () -> h.sgemmStridedBatched(Cublas.CUBLAS_OP_N,
                        Cublas.CUBLAS_OP_N, m, n, k, 1f, da, 1, 0, db, k, 0, 0f, dc, m, 0, 1)); // lda < m
                assertEquals("CUBLAS_STATUS_INVALID_VALUE", err.errorName());
            } finally {
                Cuda.memFree(da);
                Cuda.memFree(db);
                Cuda.memFree(dc);
            }
        }
    }

    @Test
    void cusparseCsrSpmvAndSpmmMatchTheHost() {
        // A 3x4 CSR matrix [[1,0,2,0],[0,0,0,3],[4,5,0,0]]
        int[] rowOffsets = {0, 2, 3, 5}, cols = {0, 2, 3, 0, 1};
        float[] vals = {1, 2, 3, 4, 5}, x = {1, 2, 3, 4};
        float[] dense = {1, 2, 3, 4, 5, 6, 7, 8}; // B 4x2 row-major
        try (CudaContext ctx = CudaContext.open(0); CudaStream s = CudaStream.create(); CusparseHandle h = new CusparseHandle(s);
             Arena arena = Arena.ofConfined()) {
            long dRow = Cuda.memAlloc(16), dCol = Cuda.memAlloc(20), dVal = DeviceArrays.upload(vals, s), dx = DeviceArrays.upload(x, s),
                    dy = Cuda.memAlloc(12), dB = DeviceArrays.upload(dense, s), dC = Cuda.memAlloc(24);
            Cuda.memcpyHtoDAsync(dRow, arena.allocateFrom(JAVA_INT, rowOffsets), 16, s.handle());
            Cuda.memcpyHtoDAsync(dCol, arena.allocateFrom(JAVA_INT, cols), 20, s.handle());
            try (SparseMatrixDescriptor a = SparseMatrixDescriptor.csr(3, 4, 5, dRow, dCol, dVal);
                 DenseVectorDescriptor vx = DenseVectorDescriptor.of(4, dx); DenseVectorDescriptor vy = DenseVectorDescriptor.of(3, dy);
                 DenseMatrixDescriptor mb = DenseMatrixDescriptor.rowMajor(4, 2, dB); DenseMatrixDescriptor mc = DenseMatrixDescriptor.rowMajor(3, 2, dC)) {
                MemorySegment sc = h.scalars(1f, 0f);
                long size = Cusparse.spmvBufferSize(h.handle(), Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE, sc, a.handle(), vx.handle(),
                        vy.handle(), Cusparse.CUDA_R_32F, Cusparse.CUSPARSE_SPMV_ALG_DEFAULT);
                long buf = Cuda.memAlloc(Math.max(size, 1));
                Cusparse.spmv(h.handle(), Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE, sc, a.handle(), vx.handle(), vy.handle(),
                        Cusparse.CUDA_R_32F, Cusparse.CUSPARSE_SPMV_ALG_DEFAULT, buf);
                assertArrayEquals(new float[] {7, 12, 14}, DeviceArrays.downloadFloats(dy, 3, s));
                Cuda.memFree(buf);
                long size2 = Cusparse.spmmBufferSize(h.handle(), Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE, Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE,
                        sc, a.handle(), mb.handle(), mc.handle(), Cusparse.CUDA_R_32F, Cusparse.CUSPARSE_SPMM_ALG_DEFAULT);
                long buf2 = Cuda.memAlloc(Math.max(size2, 1));
                Cusparse.spmm(h.handle(), Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE, Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE, sc,
                        a.handle(), mb.handle(), mc.handle(), Cusparse.CUDA_R_32F, Cusparse.CUSPARSE_SPMM_ALG_DEFAULT, buf2);
                // C = A B: rows [1*1+2*5, 1*2+2*6] = [11, 14]; [3*7, 3*8] = [21, 24]; [4*1+5*3, 4*2+5*4] = [19, 28]
                assertArrayEquals(new float[] {11, 14, 21, 24, 19, 28}, DeviceArrays.downloadFloats(dC, 6, s));
                Cuda.memFree(buf2);
            } finally {
                for (long p : new long[] {dRow, dCol, dVal, dx, dy, dB, dC}) Cuda.memFree(p);
            }
        }
    }

    @Test
    void cusparseLtInitialisesAndReportsItsVersion() {
        assertTrue(CusparseLt.library().isLoaded(), () -> "cuSPARSELt did not load: " + CusparseLt.library().failure().orElseThrow().getMessage());
        try (CudaContext ctx = CudaContext.open(0); CusparseLtHandle h = new CusparseLtHandle()) {
            assertTrue(h.version() > 0, "version " + h.version());
        }
    }
}
