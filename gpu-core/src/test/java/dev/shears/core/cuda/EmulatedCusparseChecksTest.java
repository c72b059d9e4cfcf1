package dev.shears.core.cuda;

import dev.shears.core.cuda.emulator.CudaEmulator;
import dev.shears.core.cuda.sparse.CudaCsrMatrix;
import dev.shears.core.cuda.sparse.CusparseRuntime;
import dev.shears.core.sparse.BlockedEllMatrix;
import dev.shears.core.sparse.CsrMatrix;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.nativebind.CudaException;
import dev.shears.nativebind.Cusparse;
import dev.shears.nativebind.CusparseHandle;
import dev.shears.nativebind.DenseMatrixDescriptor;
import dev.shears.nativebind.DenseVectorDescriptor;
import dev.shears.nativebind.SparseMatrixDescriptor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The emulated cuSPARSE (cuda-kernels/src/test/emulator/cusparse.cpp) rejects what the real
 * library rejects, with its codes, and faults like a GPU on indices outside the matrix: without
 * this, the emulated sparse-model tests could pass on calls a GPU refuses.
 */
class EmulatedCusparseChecksTest {
    @BeforeAll static void emulator() { CudaEmulator.require(); }

    private static void assertStatus(String name, Executable call) {
        CudaException e = assertThrows(CudaException.class, call);
        assertEquals(name, e.errorName(), e.getMessage());
    }

    /** A 4 x 6 CSR matrix with two entries a row, and 8 x 8 dense scratch. */
    @Test void argumentsOutsideTheDocumentedRulesAreRefused() {
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE);
             CusparseHandle h = new CusparseHandle(gpu.stream())) {
            float[] a = new float[24];
            for (int r = 0; r < 4; r++) { a[r * 6 + r] = 1 + r; a[r * 6 + 5] = -1; }
            CsrMatrix csr = CsrMatrix.fromDense(a, 4, 6);
            BlockedEllMatrix bell = BlockedEllMatrix.fromDense(new float[] {1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4}, 4, 4, 2);
            try (CudaTensor ptr = (CudaTensor) gpu.uploadInts(csr.rowPointers(), Shape.of(5));
                 CudaTensor idx = (CudaTensor) gpu.uploadInts(csr.columnIndices(), Shape.of(8));
                 CudaTensor val = (CudaTensor) gpu.upload(csr.nonZeroValues(), Shape.of(8));
                 CudaTensor bcol = (CudaTensor) gpu.uploadInts(bell.blockColumns(), Shape.of(bell.blockColumns().length));
                 CudaTensor bval = (CudaTensor) gpu.upload(bell.blockValues(), Shape.of(bell.blockValues().length));
                 CudaTensor dense = (CudaTensor) gpu.zeros(64);
                 CudaTensor work = (CudaTensor) gpu.zeros(1024);
                 SparseMatrixDescriptor A = SparseMatrixDescriptor.csr(4, 6, 8, ptr.pointer(), idx.pointer(), val.pointer());
                 SparseMatrixDescriptor E = SparseMatrixDescriptor.blockedEll(4, 4, 2, 2, bcol.pointer(), bval.pointer(), Cusparse.CUDA_R_32F);
                 DenseMatrixDescriptor B = DenseMatrixDescriptor.columnMajor(6, 3, dense.pointer());
                 DenseMatrixDescriptor B4 = DenseMatrixDescriptor.columnMajor(4, 3, dense.pointer());
                 DenseMatrixDescriptor C = DenseMatrixDescriptor.columnMajor(4, 3, dense.pointer(32));
                 DenseVectorDescriptor x = DenseVectorDescriptor.of(4, dense.pointer());
                 DenseVectorDescriptor y = DenseVectorDescriptor.of(4, dense.pointer(8))) {
                int n = Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE, f32 = Cusparse.CUDA_R_32F;
                var s = h.scalars(1f, 0f);
                // an ld below the rows of a column-major matrix, an unknown order
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> Cusparse.createDnMat(6, 3, 5, dense.pointer(), f32, Cusparse.CUSPARSE_ORDER_COL));
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> Cusparse.createDnMat(6, 3, 6, dense.pointer(), f32, 7));
                // ellCols not a multiple of the block
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> Cusparse.createBlockedEll(4, 4, 2, 3, bcol.pointer(), bval.pointer(),
                        Cusparse.CUSPARSE_INDEX_32I, f32));
                // A is 4 x 6 but B has 4 rows; C of the wrong height
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> Cusparse.spmmBufferSize(h.handle(), n, n, s, A.handle(), B4.handle(), C.handle(), f32, 0));
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> Cusparse.spmm(h.handle(), n, n, s, A.handle(), B.handle(), B.handle(), f32, 0, work.pointer()));
                // an algorithm that is no cusparseSpMMAlg_t, a CSR algorithm on Blocked-ELL, Blocked-ELL's on CSR
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> Cusparse.spmm(h.handle(), n, n, s, A.handle(), B.handle(), C.handle(), f32, 99, work.pointer()));
                assertStatus("CUSPARSE_STATUS_NOT_SUPPORTED", () -> Cusparse.spmm(h.handle(), n, n, s, E.handle(), B4.handle(), C.handle(), f32,
                        Cusparse.CUSPARSE_SPMM_CSR_ALG1, work.pointer()));
                assertStatus("CUSPARSE_STATUS_NOT_SUPPORTED", () -> Cusparse.spmm(h.handle(), n, n, s, A.handle(), B.handle(), C.handle(), f32,
                        Cusparse.CUSPARSE_SPMM_BLOCKED_ELL_ALG1, work.pointer()));
                // Blocked-ELL with A transposed; SpMV on Blocked-ELL
                assertStatus("CUSPARSE_STATUS_NOT_SUPPORTED", () -> Cusparse.spmm(h.handle(), Cusparse.CUSPARSE_OPERATION_TRANSPOSE, n, s, E.handle(),
                        B4.handle(), C.handle(), f32, Cusparse.CUSPARSE_SPMM_BLOCKED_ELL_ALG1, work.pointer()));
                assertStatus("CUSPARSE_STATUS_NOT_SUPPORTED", () -> Cusparse.spmv(h.handle(), n, s, E.handle(), x.handle(), y.handle(), f32,
                        Cusparse.CUSPARSE_SPMV_ALG_DEFAULT, work.pointer()));
                // SpMV of a 4 x 6 matrix with a 4-vector; no work buffer although one was asked for
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> Cusparse.spmv(h.handle(), n, s, A.handle(), x.handle(), y.handle(), f32, 0, work.pointer()));
                assertTrue(Cusparse.spmmBufferSize(h.handle(), n, n, s, A.handle(), B.handle(), C.handle(), f32, 0) > 0);
                assertStatus("CUSPARSE_STATUS_INVALID_VALUE", () -> Cusparse.spmm(h.handle(), n, n, s, A.handle(), B.handle(), C.handle(), f32, 0, 0L));
                // FP16 data: real cuSPARSE takes it, this emulator does not (and says so)
                var h16 = Cusparse.createDnMat(6, 3, 6, dense.pointer(), Cusparse.CUDA_R_16F, Cusparse.CUSPARSE_ORDER_COL);
                try {
                    assertStatus("CUSPARSE_STATUS_NOT_SUPPORTED", () -> Cusparse.spmm(h.handle(), n, n, s, A.handle(), h16, C.handle(), f32, 0, work.pointer()));
                } finally {
                    Cusparse.destroyDnMat(h16);
                }
                // and a valid call works: C = A B for B all ones is each row's sum
                gpu.fill(dense, 1f);
                Cusparse.spmm(h.handle(), n, n, s, A.handle(), B.handle(), C.handle(), f32, 0, work.pointer());
                float[] c = gpu.download(dense);
                for (int j = 0; j < 3; j++) for (int r = 0; r < 4; r++) assertEquals(r, c[32 + j * 4 + r], 0f, "C(" + r + ", " + j + ")");
            }
        }
    }

    /**
     * What cuSPARSE computes for Blocked-ELL, as NVIDIA documents it: the matrix of NVIDIA's
     * CUDALibrarySamples cuSPARSE/spmm_blockedell sample (A = [[0 0 1 2] [0 0 3 4] [5 6 0 0]
     * [7 8 0 0]], blocks of 2, ellColInd {1, 0}, ellValue {1..8}: ellValue is [rows, ellCols]
     * row-major) times its column-major B gives the sample's expected C; Shears' own
     * {@link BlockedEllMatrix} stores that matrix with those very arrays. Then the documented
     * limits (32-bit indices only, op(A) non-transposed; CSR_ALG3 with op(A) non-transposed only)
     * and a padding slot (-1) read as block column 0, as NVIDIA confirmed the library does
     * (CUDALibrarySamples issue #80), so padding must hold zeros (Shears' does).
     */
    @Test void blockedEllComputesNvidiasSampleAndRefusesWhatTheDocsRuleOut() {
        float[] dense = {0, 0, 1, 2, 0, 0, 3, 4, 5, 6, 0, 0, 7, 8, 0, 0};
        BlockedEllMatrix bell = BlockedEllMatrix.fromDense(dense, 4, 4, 2);
        assertArrayEquals(new int[] {1, 0}, bell.blockColumns(), "ellColInd of the sample");
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, bell.blockValues(), "ellValue of the sample");
        float[] b = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; // B [4, 3] column-major, as in the sample
        float[] want = {11, 25, 17, 23, 23, 53, 61, 83, 35, 81, 105, 143}; // the sample's hC_result, C [4, 3] column-major
        int n = Cusparse.CUSPARSE_OPERATION_NON_TRANSPOSE, t = Cusparse.CUSPARSE_OPERATION_TRANSPOSE, f32 = Cusparse.CUDA_R_32F;
        int alg3 = 12; // CUSPARSE_SPMM_CSR_ALG3 (cusparse.h; Shears does not use it)
        try (CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE);
             CusparseHandle h = new CusparseHandle(gpu.stream());
             CudaTensor cols = (CudaTensor) gpu.uploadInts(bell.blockColumns(), Shape.of(2));
             CudaTensor cols64 = (CudaTensor) gpu.uploadInts(new int[] {1, 0, 0, 0}, Shape.of(4)); // {1L, 0L} as int64
             CudaTensor vals = (CudaTensor) gpu.upload(bell.blockValues(), Shape.of(8));
             CudaTensor bt = (CudaTensor) gpu.upload(b, Shape.of(12));
             CudaTensor ct = (CudaTensor) gpu.zeros(12);
             CudaTensor work = (CudaTensor) gpu.zeros(1024);
             SparseMatrixDescriptor E = SparseMatrixDescriptor.blockedEll(4, 4, 2, 2, cols.pointer(), vals.pointer(), f32);
             DenseMatrixDescriptor B = DenseMatrixDescriptor.columnMajor(4, 3, bt.pointer());
             DenseMatrixDescriptor C = DenseMatrixDescriptor.columnMajor(4, 3, ct.pointer())) {
            var s = h.scalars(1f, 0f);
            for (int alg : new int[] {Cusparse.CUSPARSE_SPMM_ALG_DEFAULT, Cusparse.CUSPARSE_SPMM_BLOCKED_ELL_ALG1}) {
                gpu.fill(ct, -1f);
                Cusparse.spmm(h.handle(), n, n, s, E.handle(), B.handle(), C.handle(), f32, alg, work.pointer());
                assertArrayEquals(want, gpu.download(ct), "NVIDIA's Blocked-ELL sample, algorithm " + alg);
            }
            // 64-bit indices: the descriptor is created, SpMM refuses it
            var e64 = Cusparse.createBlockedEll(4, 4, 2, 2, cols64.pointer(), vals.pointer(), Cusparse.CUSPARSE_INDEX_64I, f32);
            try {
                assertStatus("CUSPARSE_STATUS_NOT_SUPPORTED", () -> Cusparse.spmm(h.handle(), n, n, s, e64, B.handle(), C.handle(), f32,
                        Cusparse.CUSPARSE_SPMM_BLOCKED_ELL_ALG1, work.pointer()));
            } finally {
                Cusparse.destroySpMat(e64);
            }
            // CSR_ALG3 with op(A) transposed
            CsrMatrix csr = CsrMatrix.fromDense(dense, 4, 4);
            try (CudaTensor ptr = (CudaTensor) gpu.uploadInts(csr.rowPointers(), Shape.of(5));
                 CudaTensor idx = (CudaTensor) gpu.uploadInts(csr.columnIndices(), Shape.of(8));
                 CudaTensor val = (CudaTensor) gpu.upload(csr.nonZeroValues(), Shape.of(8));
                 SparseMatrixDescriptor A = SparseMatrixDescriptor.csr(4, 4, 8, ptr.pointer(), idx.pointer(), val.pointer())) {
                assertStatus("CUSPARSE_STATUS_NOT_SUPPORTED", () -> Cusparse.spmm(h.handle(), t, n, s, A.handle(), B.handle(), C.handle(), f32,
                        alg3, work.pointer()));
                gpu.fill(ct, -1f);
                Cusparse.spmm(h.handle(), n, n, s, A.handle(), B.handle(), C.handle(), f32, alg3, work.pointer());
                assertArrayEquals(want, gpu.download(ct), "CSR_ALG3, op(A) non-transposed");
            }
            // a padding slot with non-zero values: read as block column 0, as on the GPU (issue #80)
            try (CudaTensor padCols = (CudaTensor) gpu.uploadInts(new int[] {1, -1, 0, -1}, Shape.of(4));
                 CudaTensor padVals = (CudaTensor) gpu.upload(new float[] {1, 2, 9, 9, 3, 4, 9, 9, 5, 6, 0, 0, 7, 8, 0, 0}, Shape.of(16));
                 SparseMatrixDescriptor P = SparseMatrixDescriptor.blockedEll(4, 4, 2, 4, padCols.pointer(), padVals.pointer(), f32)) {
                Cusparse.spmm(h.handle(), n, n, s, P.handle(), B.handle(), C.handle(), f32, Cusparse.CUSPARSE_SPMM_BLOCKED_ELL_ALG1, work.pointer());
                float[] got = gpu.download(ct);
                // rows 0 and 1 gain 9 * (B(0, j) + B(1, j)) from the padding block; rows 2 and 3 are the sample's
                for (int j = 0; j < 3; j++) {
                    float pad = 9 * (b[j * 4] + b[j * 4 + 1]);
                    assertEquals(want[j * 4] + pad, got[j * 4], 0f, "C(0, " + j + ")");
                    assertEquals(want[j * 4 + 1] + pad, got[j * 4 + 1], 0f, "C(1, " + j + ")");
                    assertEquals(want[j * 4 + 2], got[j * 4 + 2], 0f, "C(2, " + j + ")");
                    assertEquals(want[j * 4 + 3], got[j * 4 + 3], 0f, "C(3, " + j + ")");
                }
            }
            // Shears pads with zeros, so its padding adds nothing whichever way the library reads -1
            BlockedEllMatrix padded = BlockedEllMatrix.fromDense(new float[] {1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}, 4, 4, 2);
            int[] pc = padded.blockColumns();
            float[] pv = padded.blockValues();
            int slots = padded.ellBlocks();
            for (int e = 0; e < pc.length; e++)
                if (pc[e] == -1)
                    for (int r = (e / slots) * 2; r < (e / slots + 1) * 2; r++)
                        for (int q = 0; q < 2; q++) assertEquals(0f, pv[r * slots * 2 + (e % slots) * 2 + q], "padding value, slot " + e);
            assertTrue(java.util.Arrays.stream(pc).anyMatch(c -> c == -1), "the example has a padding slot: " + java.util.Arrays.toString(pc));
        }
    }

    @Test void aColumnIndexOutsideTheMatrixFaultsLikeAKernel() {
        CudaException fault;
        CudaBackend gpu = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE);
        CusparseRuntime rt = null;
        try {
            rt = new CusparseRuntime(gpu);
            CsrMatrix csr = CsrMatrix.fromDense(new float[] {1, 0, 0, 2}, 2, 2);
            CudaTensor idx = (CudaTensor) gpu.uploadInts(new int[] {0, 7}, Shape.of(2)); // column 7 of a 2 x 2 matrix
            CudaTensor ptr = (CudaTensor) gpu.uploadInts(csr.rowPointers(), Shape.of(3));
            CudaTensor val = (CudaTensor) gpu.upload(csr.nonZeroValues(), Shape.of(2));
            CudaTensor x = (CudaTensor) gpu.zeros(2), y = (CudaTensor) gpu.zeros(2);
            try (SparseMatrixDescriptor A = SparseMatrixDescriptor.csr(2, 2, 2, ptr.pointer(), idx.pointer(), val.pointer());
                 DenseVectorDescriptor vx = DenseVectorDescriptor.of(2, x.pointer()); DenseVectorDescriptor vy = DenseVectorDescriptor.of(2, y.pointer())) {
                rt.spmv(A, vx, vy, Cusparse.CUSPARSE_SPMV_ALG_DEFAULT); // queued: the fault comes when it runs
            }
            fault = assertThrows(CudaException.class, gpu::synchronize);
        } finally {
            // on the faulted context freeing fails too; closing the backend releases the context (and the tensors with it)
            try {
                if (rt != null) rt.close();
            } catch (RuntimeException ignored) { /* see above */ }
            try {
                gpu.close();
            } catch (RuntimeException ignored) { /* see above */ }
        }
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", fault.errorName(), fault.getMessage());
        // the fault was sticky to that context only: a new backend works
        try (CudaBackend fresh = CudaBackend.create(0, CudaBackend.LeakPolicy.RELEASE); CusparseRuntime rt2 = new CusparseRuntime(fresh)) {
            float[] a = {1, 0, 0, 2};
            try (CudaCsrMatrix m = new CudaCsrMatrix(rt2, CsrMatrix.fromDense(a, 2, 2)); Tensor x = fresh.upload(new float[] {3, 4}, Shape.of(1, 2));
                 Tensor y = fresh.zeros(1, 2)) {
                m.use(CudaCsrMatrix.Kernel.SPMV);
                m.multiply(x, 1, y);
                float[] out = fresh.download(y);
                assertEquals(3f, out[0]);
                assertEquals(8f, out[1]);
            }
        }
    }
}
