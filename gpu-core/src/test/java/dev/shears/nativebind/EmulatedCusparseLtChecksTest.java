package dev.shears.nativebind;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The emulated cuSPARSELt (cuda-kernels/src/test/emulator/cusparselt.cpp) refuses what the
 * documentation says the real library refuses, with its codes, and computes what it documents
 * in the layouts {@link StructuredMatmul} does not use (B structured, column-major, transposed
 * operands, beta != 0, BF16), exactly where the values make every sum exact. Without this, the
 * emulated {@link StructuredMatmulIT} could pass on calls a GPU refuses, or on a wrong product.
 */
class EmulatedCusparseLtChecksTest {
    @BeforeAll static void emulator() { CudaEmulator.require(); }

    private static final int F16 = CusparseLt.CUDA_R_16F, BF16 = CusparseLt.CUDA_R_16BF, ROW = CusparseLt.CUSPARSE_ORDER_ROW,
            COL = CusparseLt.CUSPARSE_ORDER_COL, N = CusparseLt.CUSPARSE_OPERATION_NON_TRANSPOSE, T = CusparseLt.CUSPARSE_OPERATION_TRANSPOSE,
            F32 = CusparseLt.CUSPARSE_COMPUTE_32F;

    private static void assertStatus(String name, Executable call) {
        CudaException e = assertThrows(CudaException.class, call);
        assertEquals(name, e.errorName(), e.getMessage());
    }

    private static short h(float v, int type) { return type == F16 ? Float.floatToFloat16(v) : (short) (Float.floatToRawIntBits(v) >>> 16); }

    private static float f(short v, int type) { return type == F16 ? Float.float16ToFloat(v) : Float.intBitsToFloat(v << 16); }

    @Test
    void argumentsOutsideTheDocumentedRulesAreRefused() {
        try (CudaContext ctx = CudaContext.open(0); CusparseLtHandle lt = new CusparseLtHandle(); Arena a = Arena.ofConfined()) {
            MemorySegment h = lt.handle();
            MemorySegment sA = a.allocate(CusparseLt.OPAQUE_BYTES, 16), dB = a.allocate(CusparseLt.OPAQUE_BYTES, 16),
                    dC = a.allocate(CusparseLt.OPAQUE_BYTES, 16), dA = a.allocate(CusparseLt.OPAQUE_BYTES, 16),
                    mm = a.allocate(CusparseLt.OPAQUE_BYTES, 16), never = a.allocate(CusparseLt.OPAQUE_BYTES, 16),
                    alg = a.allocate(CusparseLt.OPAQUE_BYTES, 16), plan = a.allocate(CusparseLt.OPAQUE_BYTES, 16);
            assertEquals(801, lt.version());
            // structured 16-bit: rows, cols, ld multiples of 16 (a dense one: of 8); ld >= cols row-major; alignment multiple of 16
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.structuredDescriptorInit(h, sA, 8, 32, 32, 16, F16, ROW));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.denseDescriptorInit(h, dB, 32, 12, 12, 16, F16, ROW));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.denseDescriptorInit(h, dB, 32, 16, 8, 16, F16, ROW));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.denseDescriptorInit(h, dB, 32, 16, 16, 8, F16, ROW));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.denseDescriptorInit(h, dB, 32, 16, 16, 16, F16, 7));
            CusparseLt.structuredDescriptorInit(h, sA, 16, 32, 32, 16, F16, ROW);  // A 16 x 32
            CusparseLt.denseDescriptorInit(h, dA, 16, 32, 32, 16, F16, ROW);
            CusparseLt.denseDescriptorInit(h, dB, 32, 16, 16, 16, F16, ROW);      // B 32 x 16
            CusparseLt.denseDescriptorInit(h, dC, 16, 16, 16, 16, F16, ROW);      // C 16 x 16
            // exactly one of A, B structured; shapes must chain; conjugate transpose; an uninitialised descriptor
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulDescriptorInit(h, mm, N, N, dA, dB, dC, dC, F32));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulDescriptorInit(h, mm, T, N, sA, dB, dC, dC, F32));
            assertStatus("CUSPARSE_STATUS_NOT_SUPPORTED", () -> CusparseLt.matmulDescriptorInit(h, mm, N, 2, sA, dB, dC, dC, F32));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulDescriptorInit(h, mm, N, N, sA, never, dC, dC, F32));
            // FP16 data with an integer compute type
            assertStatus("CUSPARSE_STATUS_NOT_SUPPORTED", () -> CusparseLt.matmulDescriptorInit(h, mm, N, N, sA, dB, dC, dC,
                    CusparseLt.CUSPARSE_COMPUTE_32I));
            // calls on a matmul descriptor, algorithm selection or plan never initialised
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulAlgSelectionInit(h, alg, never, 0));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulPlanInit(h, plan, never, never));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.spmmaCompressedSize(h, never));
            CusparseLt.matmulDescriptorInit(h, mm, N, N, sA, dB, dC, dC, F32);
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulAlgSelectionInit(h, alg, mm, 5));
            CusparseLt.matmulAlgSelectionInit(h, alg, mm, CusparseLt.CUSPARSELT_MATMUL_ALG_DEFAULT);
            // search iterations: the documented default 5, settable to any count > 0; CONFIG_MAX_ID is read-only
            int iterations = CusparseLt.CUSPARSELT_MATMUL_SEARCH_ITERATIONS;
            assertEquals(5, CusparseLt.matmulAlgIntAttribute(h, alg, iterations));
            assertEquals(1, CusparseLt.matmulAlgIntAttribute(h, alg, CusparseLt.CUSPARSELT_MATMUL_ALG_CONFIG_MAX_ID), "two configurations, 0 and 1");
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulAlgSetIntAttribute(h, alg, iterations, 0));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE",
                    () -> CusparseLt.matmulAlgSetIntAttribute(h, alg, CusparseLt.CUSPARSELT_MATMUL_ALG_CONFIG_MAX_ID, 1));
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulAlgSetIntAttribute(h, never, iterations, 3));
            CusparseLt.matmulAlgSetIntAttribute(h, alg, iterations, 7);
            assertEquals(7, CusparseLt.matmulAlgIntAttribute(h, alg, iterations));
            CusparseLt.matmulPlanInit(h, plan, mm, alg);
            long ws = CusparseLt.matmulWorkspace(h, plan);
            long dev = Cuda.memAlloc(4096);
            try (CudaStream s = CudaStream.create()) {
                // an unknown prune algorithm; a pointer off the descriptor's 16-byte alignment
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.spmmaPrune(h, mm, dev, dev, 7, s.handle()));
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.spmmaPrune(h, mm, dev + 8, dev + 8,
                        CusparseLt.CUSPARSELT_PRUNE_SPMMA_STRIP, s.handle()));
                // no workspace although the plan asks for some
                MemorySegment scalars = a.allocate(JAVA_FLOAT, 2);
                if (ws > 0) assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmul(h, plan, scalars, dev, dev, dev, dev, 0, s.handle()));
            } finally {
                Cuda.memFree(dev);
            }
            CusparseLt.matmulPlanDestroy(plan);
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulPlanDestroy(plan));     // twice
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matmulWorkspace(h, plan));   // after destroy
            CusparseLt.matmulAlgSelectionDestroy(alg);
            for (MemorySegment d : new MemorySegment[] {sA, dA, dB, dC}) CusparseLt.matDescriptorDestroy(d);
            assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> CusparseLt.matDescriptorDestroy(sA));
        }
        // a handle used after cusparseLtDestroy
        try (CudaContext ctx = CudaContext.open(0); Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(CusparseLt.HANDLE_BYTES, 16);
            CusparseLt.init(h);
            CusparseLt.destroy(h);
            assertStatus("CUSPARSE_STATUS_NOT_INITIALIZED", () -> CusparseLt.version(h));
        }
    }

    /**
     * Every shape {@link StructuredMatmul#checkShape} lets through is one the library takes: the
     * structured A [m, k] needs m and k in multiples of 16 (FP16/BF16), the dense B [k, n] and
     * D [m, n] multiples of 8. (m = 24 passed the check once and failed in
     * cusparseLtStructuredDescriptorInit.)
     */
    @Test
    void structuredMatmulTakesExactlyTheShapesTheLibraryTakes() {
        try (CudaContext ctx = CudaContext.open(0); CusparseLtHandle lt = new CusparseLtHandle()) {
            for (int type : new int[] {F16, BF16})
                for (int m = 8; m <= 48; m += 8)
                    for (int n = 8; n <= 24; n += 8)
                        for (int k = 16; k <= 32; k += 16) {
                            boolean accepted;
                            try {
                                StructuredMatmul.checkShape(m, n, k, type);
                                accepted = true;
                            } catch (IllegalArgumentException e) {
                                accepted = false;
                            }
                            if (accepted) {
                                new StructuredMatmul(lt, m, n, k, type, F32).close();  // throws the library's refusal if any
                            } else {
                                int fm = m, fn = n, fk = k, ft = type;
                                assertThrows(IllegalArgumentException.class, () -> new StructuredMatmul(lt, fm, fn, fk, ft, F32));
                            }
                        }
        }
    }

    /**
     * A constructor that fails part-way (here the matmul descriptor, on a compute type the library
     * refuses) throws the library's error and releases exactly the descriptors it had made: the
     * emulator refuses to destroy one never initialised, which would show as a suppressed error.
     */
    /** A product made with an explicit search-iteration count carries it into its selection; without one, the library's default. */
    @Test
    void searchIterationsAreSetBeforeThePlanIsMade() {
        try (CudaContext ctx = CudaContext.open(0); CusparseLtHandle lt = new CusparseLtHandle()) {
            try (StructuredMatmul tuned = new StructuredMatmul(lt, 16, 16, 32, F16, F32, 10)) {
                assertEquals(10, tuned.searchIterations());
            }
            try (StructuredMatmul plain = new StructuredMatmul(lt, 16, 16, 32, F16, F32)) {
                assertEquals(5, plain.searchIterations(), "the documented default");
            }
            assertThrows(IllegalArgumentException.class, () -> new StructuredMatmul(lt, 16, 16, 32, F16, F32, -1));
        }
    }

    @Test
    void aFailedConstructorDestroysOnlyWhatItInitialised() {
        try (CudaContext ctx = CudaContext.open(0); CusparseLtHandle lt = new CusparseLtHandle()) {
            CudaException e = assertThrows(CudaException.class, () -> new StructuredMatmul(lt, 16, 16, 32, F16, 99));
            assertEquals("cusparseLtMatmulDescriptorInit", e.function(), e.getMessage());
            assertEquals(0, e.getSuppressed().length, () -> "close after the failure: " + java.util.Arrays.toString(e.getSuppressed()));
            new StructuredMatmul(lt, 16, 16, 32, F16, F32).close();  // the handle is still good
        }
    }

    /**
     * D = 2 op(A) op(B) + C with B the structured operand, stored row-major n x k and transposed
     * (op(B) = B^T, k x n), A column-major m x k, C and D column-major, in BF16: small integers,
     * so every product and sum is exact and D must equal the host's result bit for bit.
     */
    @Test
    void structuredBTransposedColumnMajorBf16IsExact() {
        int m = 16, n = 32, k = 64, type = BF16;
        SplittableRandom r = new SplittableRandom(5);
        float[] aF = new float[m * k], bF = new float[n * k], cF = new float[m * n];  // A col-major [m,k]; B row-major [n,k]; C col-major
        for (int i = 0; i < aF.length; i++) aF[i] = r.nextInt(-3, 4);
        for (int j = 0; j < n; j++)
            for (int g = 0; g < k; g += 4) {  // already 2:4 along k: two of each four, nonzero
                int p = r.nextInt(4), q = (p + 1 + r.nextInt(3)) % 4;
                bF[j * k + g + p] = r.nextInt(1, 4);
                bF[j * k + g + q] = -r.nextInt(1, 4);
            }
        for (int i = 0; i < cF.length; i++) cF[i] = r.nextInt(-5, 6);
        try (CudaContext ctx = CudaContext.open(0); CudaStream s = CudaStream.create(); CusparseLtHandle lt = new CusparseLtHandle();
             Arena a = Arena.ofConfined()) {
            MemorySegment h = lt.handle();
            MemorySegment mA = a.allocate(CusparseLt.OPAQUE_BYTES, 16), mB = a.allocate(CusparseLt.OPAQUE_BYTES, 16),
                    mC = a.allocate(CusparseLt.OPAQUE_BYTES, 16), mm = a.allocate(CusparseLt.OPAQUE_BYTES, 16),
                    alg = a.allocate(CusparseLt.OPAQUE_BYTES, 16), plan = a.allocate(CusparseLt.OPAQUE_BYTES, 16);
            CusparseLt.denseDescriptorInit(h, mA, m, k, m, 16, type, COL);
            CusparseLt.structuredDescriptorInit(h, mB, n, k, k, 16, type, ROW);
            CusparseLt.denseDescriptorInit(h, mC, m, n, m, 16, type, COL);
            CusparseLt.matmulDescriptorInit(h, mm, N, T, mA, mB, mC, mC, F32);
            CusparseLt.matmulAlgSelectionInit(h, alg, mm, 0);
            CusparseLt.matmulPlanInit(h, plan, mm, alg);
            long dA = upload(aF, type, s), dB = upload(bF, type, s), dC = upload(cF, type, s), dD = Cuda.memAlloc(2L * m * n),
                    dBp = Cuda.memAlloc(2L * n * k), dValid = Cuda.memAlloc(4);
            long[] sizes = CusparseLt.spmmaCompressedSize(h, plan);
            long dComp = Cuda.memAlloc(sizes[0]), dBuf = Cuda.memAlloc(Math.max(1, sizes[1]));
            long ws = CusparseLt.matmulWorkspace(h, plan), dWs = ws > 0 ? Cuda.memAlloc(ws) : 0;
            try {
                // pruning a matrix that already follows 2:4 (out of place) changes nothing
                CusparseLt.spmmaPrune(h, mm, dB, dBp, CusparseLt.CUSPARSELT_PRUNE_SPMMA_STRIP, s.handle());
                CusparseLt.spmmaPruneCheck(h, mm, dBp, dValid, s.handle());
                int[] valid = {-1};
                Cuda.copyFromDevice(MemorySegment.ofArray(valid), dValid, 4, s);
                assertEquals(0, valid[0]);
                assertArrayEquals(download(dB, n * k, s), download(dBp, n * k, s));
                CusparseLt.spmmaCompress(h, plan, dBp, dComp, dBuf, s.handle());
                MemorySegment scalars = a.allocate(JAVA_FLOAT, 2);
                scalars.setAtIndex(JAVA_FLOAT, 0, 2f);
                scalars.setAtIndex(JAVA_FLOAT, 1, 1f);
                CusparseLt.matmul(h, plan, scalars, dA, dComp, dC, dD, dWs, s.handle());
                short[] d = download(dD, m * n, s);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        float e = cF[j * m + i];
                        float sum = 0;
                        for (int p = 0; p < k; p++) sum += aF[p * m + i] * bF[j * k + p];
                        e += 2 * sum;
                        assertEquals(e, f(d[j * m + i], type), 0f, "D(" + i + ", " + j + ")");
                    }
            } finally {
                for (long p : new long[] {dA, dB, dC, dD, dBp, dValid, dComp, dBuf}) Cuda.memFree(p);
                if (dWs != 0) Cuda.memFree(dWs);
                CusparseLt.matmulPlanDestroy(plan);
                CusparseLt.matmulAlgSelectionDestroy(alg);
                for (MemorySegment x : new MemorySegment[] {mA, mB, mC}) CusparseLt.matDescriptorDestroy(x);
            }
        }
    }

    /**
     * TILE pruning ([T]: 8 of each 4x4 tile zeroed, two kept per row and column, the largest L1
     * norm) and STRIP (the two largest of each 1x4), on a structured A [16, 16] row-major, checked
     * against a brute force over the 90 valid tile patterns.
     */
    @Test
    void tileAndStripPruningKeepWhatTheDocumentationSays() {
        int m = 16, k = 16, type = F16;
        SplittableRandom r = new SplittableRandom(9);
        float[] aF = new float[m * k];
        for (int i = 0; i < aF.length; i++) aF[i] = (float) (r.nextInt(1, 2000) * (r.nextBoolean() ? 1 : -1)) / 64f;  // distinct-ish, exact in FP16
        try (CudaContext ctx = CudaContext.open(0); CudaStream s = CudaStream.create(); CusparseLtHandle lt = new CusparseLtHandle();
             Arena a = Arena.ofConfined()) {
            MemorySegment h = lt.handle();
            MemorySegment mA = a.allocate(CusparseLt.OPAQUE_BYTES, 16), mB = a.allocate(CusparseLt.OPAQUE_BYTES, 16),
                    mm = a.allocate(CusparseLt.OPAQUE_BYTES, 16);
            CusparseLt.structuredDescriptorInit(h, mA, m, k, k, 16, type, ROW);
            CusparseLt.denseDescriptorInit(h, mB, k, 16, 16, 16, type, ROW);
            CusparseLt.matmulDescriptorInit(h, mm, N, N, mA, mB, mB, mB, F32);  // C = D 16 x 16 like B
            long dA = upload(aF, type, s), dOut = Cuda.memAlloc(2L * m * k);
            try {
                CusparseLt.spmmaPrune(h, mm, dA, dOut, CusparseLt.CUSPARSELT_PRUNE_SPMMA_TILE, s.handle());
                short[] tile = download(dOut, m * k, s);
                for (int r0 = 0; r0 < m; r0 += 4)
                    for (int c0 = 0; c0 < k; c0 += 4) {
                        double kept = 0, best = 0;
                        for (int i = 0; i < 4; i++) {
                            int inRow = 0, inCol = 0;
                            for (int j = 0; j < 4; j++) {
                                float v = f(tile[(r0 + i) * k + c0 + j], type);
                                if (v != 0) { inRow++; kept += Math.abs(v); assertEquals(aF[(r0 + i) * k + c0 + j], v); }
                                if (f(tile[(r0 + j) * k + c0 + i], type) != 0) inCol++;
                            }
                            assertEquals(2, inRow, "tile (" + r0 + ", " + c0 + ") row " + i);
                            assertEquals(2, inCol, "tile (" + r0 + ", " + c0 + ") column " + i);
                        }
                        for (int p = 0; p < 65536; p++) {
                            if (!twoPerRowAndColumn(p)) continue;
                            double sum = 0;
                            for (int b = 0; b < 16; b++) if ((p >> b & 1) != 0) sum += Math.abs(aF[(r0 + b / 4) * k + c0 + b % 4]);
                            best = Math.max(best, sum);
                        }
                        assertEquals(best, kept, 1e-9, "tile (" + r0 + ", " + c0 + ") keeps less than the largest L1 norm");
                    }
                CusparseLt.spmmaPrune(h, mm, dA, dOut, CusparseLt.CUSPARSELT_PRUNE_SPMMA_STRIP, s.handle());
                short[] strip = download(dOut, m * k, s);
                for (int i = 0; i < m; i++)
                    for (int g = 0; g < k; g += 4) {
                        float[] abs = new float[4];
                        for (int j = 0; j < 4; j++) abs[j] = Math.abs(aF[i * k + g + j]);
                        float[] sorted = abs.clone();
                        java.util.Arrays.sort(sorted);
                        for (int j = 0; j < 4; j++) {
                            float v = f(strip[i * k + g + j], type);
                            if (abs[j] > sorted[1]) assertEquals(aF[i * k + g + j], v, "a largest value was dropped");
                            if (abs[j] < sorted[2]) assertEquals(0f, v, "a smaller value was kept");
                        }
                    }
            } finally {
                Cuda.memFree(dA);
                Cuda.memFree(dOut);
                CusparseLt.matDescriptorDestroy(mA);
                CusparseLt.matDescriptorDestroy(mB);
            }
        }
    }

    private static boolean twoPerRowAndColumn(int p) {
        for (int i = 0; i < 4; i++) {
            int row = 0, col = 0;
            for (int j = 0; j < 4; j++) { row += p >> (i * 4 + j) & 1; col += p >> (j * 4 + i) & 1; }
            if (row != 2 || col != 2) return false;
        }
        return true;
    }

    private static long upload(float[] v, int type, CudaStream s) {
        short[] x = new short[v.length];
        for (int i = 0; i < v.length; i++) x[i] = h(v[i], type);
        return DeviceArrays.upload(x, s);
    }

    private static short[] download(long d, int count, CudaStream s) { return DeviceArrays.downloadShorts(d, count, s); }
}
