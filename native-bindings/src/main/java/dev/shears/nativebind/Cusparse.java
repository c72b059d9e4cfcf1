package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuSPARSE ({@code libcusparse.so.12}; CUDA 13 still ships cuSPARSE 12, which needs
 * {@code libnvJitLink.so.13} beside it), generic API: CSR and Blocked-ELL sparse matrices,
 * dense matrices and vectors, SpMM and SpMV with their work buffers. Every status is checked
 * into a {@link CudaException} with cusparseGetErrorName / cusparseGetErrorString.
 */
public final class Cusparse {
    private Cusparse() {}

    // Enum values from cusparse.h (CUDA 12/13).
    public static final int CUSPARSE_OPERATION_NON_TRANSPOSE = 0;
    public static final int CUSPARSE_OPERATION_TRANSPOSE = 1;
    public static final int CUSPARSE_INDEX_32I = 2;
    public static final int CUSPARSE_INDEX_64I = 3;
    public static final int CUSPARSE_INDEX_BASE_ZERO = 0;
    public static final int CUSPARSE_ORDER_COL = 1;
    public static final int CUSPARSE_ORDER_ROW = 2;
    public static final int CUSPARSE_SPMM_ALG_DEFAULT = 0;
    public static final int CUSPARSE_SPMM_CSR_ALG1 = 4;
    public static final int CUSPARSE_SPMM_CSR_ALG2 = 6;
    public static final int CUSPARSE_SPMM_BLOCKED_ELL_ALG1 = 13;
    public static final int CUSPARSE_SPMV_ALG_DEFAULT = 0;
    public static final int CUSPARSE_SPMV_CSR_ALG1 = 2;
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16F = 2;

    private static final class H {
        static final LoadedLibrary LIB = LoadedLibrary.loadOrFailure(CudaLibrary.CUSPARSE);
        static final MethodHandle cusparseGetErrorName = LIB.downcall(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cusparseGetErrorName");
        static final MethodHandle cusparseGetErrorString = LIB.downcall(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cusparseGetErrorString");
        static final MethodHandle cusparseCreate = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseCreate");
        static final MethodHandle cusparseDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseDestroy");
        static final MethodHandle cusparseSetStream = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cusparseSetStream");
        // cusparseCreateCsr(*descr, rows, cols, nnz, rowOffsets, colInd, values, rowOffsetsType, colIndType, idxBase, valueType)
        static final MethodHandle cusparseCreateCsr = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), "cusparseCreateCsr");
        // cusparseCreateBlockedEll(*descr, rows, cols, ellBlockSize, ellCols, ellColInd, ellValue, ellIdxType, idxBase, valueType)
        static final MethodHandle cusparseCreateBlockedEll = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT), "cusparseCreateBlockedEll");
        static final MethodHandle cusparseDestroySpMat = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseDestroySpMat");
        // cusparseCreateDnMat(*descr, rows, cols, ld, values, valueType, order)
        static final MethodHandle cusparseCreateDnMat = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT), "cusparseCreateDnMat");
        static final MethodHandle cusparseDestroyDnMat = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseDestroyDnMat");
        // cusparseCreateDnVec(*descr, size, values, valueType)
        static final MethodHandle cusparseCreateDnVec = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT), "cusparseCreateDnVec");
        static final MethodHandle cusparseDestroyDnVec = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseDestroyDnVec");
        // cusparseSpMM_bufferSize(handle, opA, opB, *alpha, A, B, *beta, C, computeType, alg, *size)
        static final MethodHandle cusparseSpMMBufferSize = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), "cusparseSpMM_bufferSize");
        // cusparseSpMM(handle, opA, opB, *alpha, A, B, *beta, C, computeType, alg, buffer)
        static final MethodHandle cusparseSpMM = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG), "cusparseSpMM");
        // cusparseSpMV_bufferSize(handle, opA, *alpha, A, x, *beta, y, computeType, alg, *size)
        static final MethodHandle cusparseSpMVBufferSize = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), "cusparseSpMV_bufferSize");
        // cusparseSpMV(handle, opA, *alpha, A, x, *beta, y, computeType, alg, buffer)
        static final MethodHandle cusparseSpMV = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG), "cusparseSpMV");
    }

    static final StatusDescriber DESCRIBER = StatusDescriber.ofCStringFunctions(() -> H.cusparseGetErrorName, () -> H.cusparseGetErrorString);

    public static void check(int rc, String function) {
        if (rc != 0) throw StatusDescriber.toException(CudaLibrary.CUSPARSE, DESCRIBER, function, rc, null);
    }

    private static void check(int rc, String function, String context) {
        if (rc != 0) throw StatusDescriber.toException(CudaLibrary.CUSPARSE, DESCRIBER, function, rc, context);
    }

    public static LoadedLibrary library() { return H.LIB; }

    public static MemorySegment create() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cusparseCreate.invokeExact(out), "cusparseCreate");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void destroy(MemorySegment handle) { call(H.cusparseDestroy, handle, "cusparseDestroy"); }

    public static void setStream(MemorySegment handle, MemorySegment stream) {
        try { check((int) H.cusparseSetStream.invokeExact(handle, stream), "cusparseSetStream"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    private static void call(MethodHandle fn, MemorySegment handle, String name) {
        try { check((int) fn.invokeExact(handle), name); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** A CSR matrix over device arrays (int32 or int64 indices, zero-based). */
    public static MemorySegment createCsr(long rows, long cols, long nnz, long rowOffsets, long colIndices, long values,
                                          int indexType, int valueType) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cusparseCreateCsr.invokeExact(out, rows, cols, nnz, rowOffsets, colIndices, values,
                    indexType, indexType, CUSPARSE_INDEX_BASE_ZERO, valueType), "cusparseCreateCsr",
                    rows + "x" + cols + " nnz " + nnz);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * A Blocked-ELL matrix: {@code rows x cols} in square blocks of {@code blockSize}; each block
     * row holds {@code ellCols} columns of values (ellCols is in elements, a multiple of blockSize);
     * {@code columnIndices} holds block-column indices, -1 for padding.
     */
    public static MemorySegment createBlockedEll(long rows, long cols, long blockSize, long ellCols,
                                                 long columnIndices, long values, int indexType, int valueType) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cusparseCreateBlockedEll.invokeExact(out, rows, cols, blockSize, ellCols, columnIndices, values,
                    indexType, CUSPARSE_INDEX_BASE_ZERO, valueType), "cusparseCreateBlockedEll",
                    rows + "x" + cols + " block " + blockSize + " ellCols " + ellCols);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void destroySpMat(MemorySegment descr) { call(H.cusparseDestroySpMat, descr, "cusparseDestroySpMat"); }

    public static MemorySegment createDnMat(long rows, long cols, long ld, long values, int valueType, int order) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cusparseCreateDnMat.invokeExact(out, rows, cols, ld, values, valueType, order), "cusparseCreateDnMat",
                    rows + "x" + cols + " ld " + ld);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void destroyDnMat(MemorySegment descr) { call(H.cusparseDestroyDnMat, descr, "cusparseDestroyDnMat"); }

    public static MemorySegment createDnVec(long size, long values, int valueType) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cusparseCreateDnVec.invokeExact(out, size, values, valueType), "cusparseCreateDnVec", "size " + size);
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void destroyDnVec(MemorySegment descr) { call(H.cusparseDestroyDnVec, descr, "cusparseDestroyDnVec"); }

    /** Work-buffer bytes for {@link #spmm}; {@code scalars} holds alpha then beta (host floats). */
    public static long spmmBufferSize(MemorySegment handle, int opA, int opB, MemorySegment scalars, MemorySegment a,
                                      MemorySegment b, MemorySegment c, int computeType, int alg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cusparseSpMMBufferSize.invokeExact(handle, opA, opB, scalars, a, b, scalars.asSlice(4), c,
                    computeType, alg, out), "cusparseSpMM_bufferSize", "alg " + alg);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** C = alpha op(A) op(B) + beta C with sparse A; {@code buffer} is a device pointer (0 when size 0). */
    public static void spmm(MemorySegment handle, int opA, int opB, MemorySegment scalars, MemorySegment a,
                            MemorySegment b, MemorySegment c, int computeType, int alg, long buffer) {
        try {
            check((int) H.cusparseSpMM.invokeExact(handle, opA, opB, scalars, a, b, scalars.asSlice(4), c,
                    computeType, alg, buffer), "cusparseSpMM", "alg " + alg);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static long spmvBufferSize(MemorySegment handle, int opA, MemorySegment scalars, MemorySegment a,
                                      MemorySegment x, MemorySegment y, int computeType, int alg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) H.cusparseSpMVBufferSize.invokeExact(handle, opA, scalars, a, x, scalars.asSlice(4), y,
                    computeType, alg, out), "cusparseSpMV_bufferSize", "alg " + alg);
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** y = alpha op(A) x + beta y with sparse A. */
    public static void spmv(MemorySegment handle, int opA, MemorySegment scalars, MemorySegment a,
                            MemorySegment x, MemorySegment y, int computeType, int alg, long buffer) {
        try {
            check((int) H.cusparseSpMV.invokeExact(handle, opA, scalars, a, x, scalars.asSlice(4), y,
                    computeType, alg, buffer), "cusparseSpMV", "alg " + alg);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }
}
