package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuBLAS ({@code libcublas.so.13}, else {@code .so.12}), bound by hand. Column-major as cuBLAS is;
 * row-major callers swap the operands (C^T = B^T A^T). Scalars are passed from host memory
 * (the default pointer mode). Every status is checked into a {@link CudaException} with
 * cublasGetStatusName / cublasGetStatusString.
 */
public final class Cublas {
    private Cublas() {}

    // cublasOperation_t, cudaDataType_t, cublasComputeType_t, cublasGemmAlgo_t (cublas_api.h, library_types.h)
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16F = 2;
    public static final int CUDA_R_16BF = 14;
    public static final int CUBLAS_COMPUTE_32F = 68;
    public static final int CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
    public static final int CUBLAS_GEMM_DEFAULT = -1;

    private static final class H {
        static final LoadedLibrary LIB = LoadedLibrary.loadOrFailure(CudaLibrary.CUBLAS);
        static final MethodHandle cublasGetStatusName = LIB.downcall(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cublasGetStatusName");
        static final MethodHandle cublasGetStatusString = LIB.downcall(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cublasGetStatusString");
        static final MethodHandle cublasCreate = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasCreate_v2");
        static final MethodHandle cublasDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasDestroy_v2");
        static final MethodHandle cublasSetStream = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cublasSetStream_v2");
        // cublasSetWorkspace_v2(handle, void* workspace, size_t workspaceSizeInBytes)
        static final MethodHandle cublasSetWorkspace = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG),
                "cublasSetWorkspace_v2");
        // cublasSgemm_v2(handle, transa, transb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc)
        static final MethodHandle cublasSgemm = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), "cublasSgemm_v2");
        // cublasSgemmStridedBatched(handle, ta, tb, m, n, k, *alpha, A, lda, strideA, B, ldb, strideB, *beta, C, ldc, strideC, batch)
        static final MethodHandle cublasSgemmStridedBatched = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), "cublasSgemmStridedBatched");
        // cublasGemmEx(handle, ta, tb, m, n, k, *alpha, A, Atype, lda, B, Btype, ldb, *beta, C, Ctype, ldc, computeType, algo)
        static final MethodHandle cublasGemmEx = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), "cublasGemmEx");
    }

    static final StatusDescriber DESCRIBER = StatusDescriber.ofCStringFunctions(() -> H.cublasGetStatusName, () -> H.cublasGetStatusString);

    public static void check(int rc, String function) {
        if (rc != 0) throw StatusDescriber.toException(CudaLibrary.CUBLAS, DESCRIBER, function, rc, null);
    }

    private static void check(int rc, String function, String context) {
        if (rc != 0) throw StatusDescriber.toException(CudaLibrary.CUBLAS, DESCRIBER, function, rc, context);
    }

    /** The loaded library, or its load failure. */
    public static LoadedLibrary library() { return H.LIB; }

    public static MemorySegment create() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) H.cublasCreate.invokeExact(out), "cublasCreate_v2");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void destroy(MemorySegment handle) {
        try { check((int) H.cublasDestroy.invokeExact(handle), "cublasDestroy_v2"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void setStream(MemorySegment handle, MemorySegment stream) {
        try { check((int) H.cublasSetStream.invokeExact(handle, stream), "cublasSetStream_v2"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * Gives the handle a caller-owned device workspace ({@code bytes} at {@code workspace}, 256-byte
     * aligned) for every later call on its stream, instead of cuBLAS's own pool, which it allocates
     * when first needed (an allocation a CUDA-graph capture must not meet). cublasSetStream resets
     * the workspace to that pool: call this after it.
     */
    public static void setWorkspace(MemorySegment handle, long workspace, long bytes) {
        try { check((int) H.cublasSetWorkspace.invokeExact(handle, workspace, bytes), "cublasSetWorkspace_v2"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * Column-major SGEMM, C = alpha op(A) op(B) + beta C; A, B, C are device pointers;
     * {@code scalars} is host memory holding alpha at 0 and beta at 4 (reused by the caller).
     */
    public static void sgemm(MemorySegment handle, int transA, int transB, int m, int n, int k,
                             MemorySegment scalars, long a, int lda, long b, int ldb, long c, int ldc) {
        int rc;
        try {
            rc = (int) H.cublasSgemm.invokeExact(handle, transA, transB, m, n, k, scalars, a, lda, b, ldb,
                    scalars.asSlice(4), c, ldc);
        } catch (Throwable t) { throw Native.rethrow(t); }
        if (rc != 0) check(rc, "cublasSgemm_v2", dims(transA, transB, m, n, k, lda, ldb, ldc));
    }

    /** Column-major strided-batched SGEMM; strides in elements. Scalars as in {@link #sgemm}. */
    public static void sgemmStridedBatched(MemorySegment handle, int transA, int transB, int m, int n, int k,
                                           MemorySegment scalars, long a, int lda, long strideA,
                                           long b, int ldb, long strideB, long c, int ldc, long strideC, int batch) {
        int rc;
        try {
            rc = (int) H.cublasSgemmStridedBatched.invokeExact(handle, transA, transB, m, n, k, scalars,
                    a, lda, strideA, b, ldb, strideB, scalars.asSlice(4), c, ldc, strideC, batch);
        } catch (Throwable t) { throw Native.rethrow(t); }
        if (rc != 0) check(rc, "cublasSgemmStridedBatched", dims(transA, transB, m, n, k, lda, ldb, ldc) + " batch " + batch);
    }

    /** Mixed-precision GEMM (cublasGemmEx) with explicit data and compute types. */
    public static void gemmEx(MemorySegment handle, int transA, int transB, int m, int n, int k,
                              MemorySegment scalars, long a, int aType, int lda, long b, int bType, int ldb,
                              long c, int cType, int ldc, int computeType, int algo) {
        int rc;
        try {
            rc = (int) H.cublasGemmEx.invokeExact(handle, transA, transB, m, n, k, scalars, a, aType, lda,
                    b, bType, ldb, scalars.asSlice(4), c, cType, ldc, computeType, algo);
        } catch (Throwable t) { throw Native.rethrow(t); }
        if (rc != 0) check(rc, "cublasGemmEx", dims(transA, transB, m, n, k, lda, ldb, ldc) + " computeType " + computeType);
    }

    private static String dims(int ta, int tb, int m, int n, int k, int lda, int ldb, int ldc) {
        return (ta == CUBLAS_OP_N ? "N" : "T") + (tb == CUBLAS_OP_N ? "N" : "T") + " m=" + m + " n=" + n + " k=" + k
                + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc;
    }

    /** An allocated host pair {alpha, beta} for the scalar arguments. */
    public static MemorySegment scalars(Arena arena) {
        return arena.allocate(JAVA_FLOAT, 2);
    }
}
