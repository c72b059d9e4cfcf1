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
