package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuSPARSELt ({@code libcusparseLt.so.0}): library handle, matrix / matmul descriptors, algorithm
 * selection, plans, 2:4 pruning, compression and the structured-sparse matmul
 * {@code D = alpha op(A) op(B) + beta C} (see {@link StructuredMatmul} for the whole chain).
 * Signatures follow cuSPARSELt 0.7-0.8 (the CUDA 13 wheels); {@link #requireModernEnums} guards
 * the enum numbering, which changed in 0.6 (cusparseComputeType lost its TF32 values).
 *
 * <p>Every cuSPARSELt object is an opaque struct the caller allocates: 1024 bytes in 0.2-0.3,
 * 11024 in 0.4, 13072 in 0.6.2, 512 in 0.7.1-0.8.1 (from the headers of those releases; the
 * 0.6.2 and 0.7.1-0.8.1 sizes are in {@code src/test/resources/abi/cusparselt.txt}, which
 * {@code LibraryConstantsTest} checks these against), so {@link #HANDLE_BYTES} and
 * {@link #OPAQUE_BYTES} leave room for any of them. Statuses are cusparseStatus_t values,
 * described by cusparseLtGetErrorName/String (declared from 0.7.1; the 0.6.2 header lacks them).
 *
 * <p>Status: the bindings beyond init/destroy/version were written from the documented C
 * signatures in a session without a GPU; they have not been called on a device yet (see
 * {@code StructuredMatmulIT}).
 */
public final class CusparseLt {
    private CusparseLt() {}

    /** Bytes reserved for a cusparseLtHandle_t (larger than any release's struct so far). */
    public static final long HANDLE_BYTES = 16384;
    /** Bytes reserved for every other opaque struct (mat / matmul descriptor, alg selection, plan). */
    public static final long OPAQUE_BYTES = 16384;

    // Enum values of cusparseLt.h 0.7-0.8 and cusparse.h / library_types.h.
    /** cusparseLtSparsity_t: 2:4 for 16-bit and 8-bit types, 1:2 for float */
    public static final int CUSPARSELT_SPARSITY_50_PERCENT = 0;
    /** cusparseComputeType (0.6 and later; earlier releases numbered 16F = 0, 32I = 1, TF32 = 2) */
    public static final int CUSPARSE_COMPUTE_32I = 0;
    public static final int CUSPARSE_COMPUTE_16F = 1;
    public static final int CUSPARSE_COMPUTE_32F = 2;
    public static final int CUSPARSELT_MATMUL_ALG_DEFAULT = 0;
    /** cusparseLtMatmulAlgAttribute_t: the kernel configuration a search chose (int) and the highest there is (int) */
    public static final int CUSPARSELT_MATMUL_ALG_CONFIG_ID = 0;
    public static final int CUSPARSELT_MATMUL_ALG_CONFIG_MAX_ID = 1;
    /**
     * cusparseLtMatmulAlgAttribute_t: launches per kernel configuration in cusparseLtMatmulSearch
     * (int, > 0, default 5). 2: the third enumerator of cusparseLtMatmulAlgAttribute_t, which numbers
     * from 0 (cusparseLt.h; NVIDIA's generated bindings list SEARCH_ITERATIONS = 2,
     * docs.nvidia.com/cuda/nvmath-python/latest/bindings/generated/nvmath.bindings.cusparseLt.MatmulAlgAttribute.html;
     * meaning and default: docs.nvidia.com/cuda/cusparselt/types.html).
     */
    public static final int CUSPARSELT_MATMUL_SEARCH_ITERATIONS = 2;
    public static final int CUSPARSELT_PRUNE_SPMMA_TILE = 0;
    public static final int CUSPARSELT_PRUNE_SPMMA_STRIP = 1;
    public static final int CUSPARSE_ORDER_COL = 1;
    public static final int CUSPARSE_ORDER_ROW = 2;
    public static final int CUSPARSE_OPERATION_NON_TRANSPOSE = 0;
    public static final int CUSPARSE_OPERATION_TRANSPOSE = 1;
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16F = 2;
    public static final int CUDA_R_16BF = 14;
    /** The oldest release whose enum numbering these constants match (major*1000 + minor*100 + patch). */
    public static final int MIN_VERSION = 600;

    private static final class H {
        static final LoadedLibrary LIB = LoadedLibrary.loadOrFailure(CudaLibrary.CUSPARSELT);
        static final MethodHandle cusparseLtGetErrorName = LIB.downcall(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cusparseLtGetErrorName");
        static final MethodHandle cusparseLtGetErrorString = LIB.downcall(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cusparseLtGetErrorString");
        static final MethodHandle cusparseLtInit = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseLtInit");
        static final MethodHandle cusparseLtDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseLtDestroy");
        static final MethodHandle cusparseLtGetVersion = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cusparseLtGetVersion");
        // cusparseLtDenseDescriptorInit(handle*, matDescr*, int64 rows, int64 cols, int64 ld, uint32 alignment, cudaDataType, cusparseOrder_t)
        static final MethodHandle cusparseLtDenseDescriptorInit = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT), "cusparseLtDenseDescriptorInit");
        // cusparseLtStructuredDescriptorInit(..., cusparseOrder_t, cusparseLtSparsity_t)
        static final MethodHandle cusparseLtStructuredDescriptorInit = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), "cusparseLtStructuredDescriptorInit");
        static final MethodHandle cusparseLtMatDescriptorDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseLtMatDescriptorDestroy");
        // cusparseLtMatmulDescriptorInit(handle*, matmulDescr*, opA, opB, matA*, matB*, matC*, matD*, cusparseComputeType)
        static final MethodHandle cusparseLtMatmulDescriptorInit = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), "cusparseLtMatmulDescriptorInit");
        // cusparseLtMatmulAlgSelectionInit(handle*, algSelection*, matmulDescr*, cusparseLtMatmulAlg_t)
        static final MethodHandle cusparseLtMatmulAlgSelectionInit = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                ADDRESS, JAVA_INT), "cusparseLtMatmulAlgSelectionInit");
        static final MethodHandle cusparseLtMatmulAlgSelectionDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS),
                "cusparseLtMatmulAlgSelectionDestroy");
        // cusparseLtMatmulPlanInit(handle*, plan*, matmulDescr*, algSelection*)  (0.5 and later: no workspace argument)
        static final MethodHandle cusparseLtMatmulPlanInit = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS), "cusparseLtMatmulPlanInit");
        static final MethodHandle cusparseLtMatmulPlanDestroy = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS), "cusparseLtMatmulPlanDestroy");
        // cusparseLtMatmulGetWorkspace(handle*, plan*, size_t* workspaceSize)
        static final MethodHandle cusparseLtMatmulGetWorkspace = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                ADDRESS), "cusparseLtMatmulGetWorkspace");
        // cusparseLtMatmul(handle*, plan*, alpha*, d_A, d_B, beta*, d_C, d_D, workspace, cudaStream_t* streams, int32 numStreams)
        static final MethodHandle cusparseLtMatmul = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT), "cusparseLtMatmul");
        // cusparseLtMatmulAlgGetAttribute(handle*, algSelection*, cusparseLtMatmulAlgAttribute_t, void* data, size_t dataSize)
        static final MethodHandle cusparseLtMatmulAlgGetAttribute = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, JAVA_LONG), "cusparseLtMatmulAlgGetAttribute");
        // cusparseLtMatmulAlgSetAttribute(handle*, algSelection*, cusparseLtMatmulAlgAttribute_t, const void* data, size_t dataSize)
        static final MethodHandle cusparseLtMatmulAlgSetAttribute = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, JAVA_LONG), "cusparseLtMatmulAlgSetAttribute");
        // cusparseLtMatmulSearch(handle*, plan* (in/out), ... same as cusparseLtMatmul)
        static final MethodHandle cusparseLtMatmulSearch = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT), "cusparseLtMatmulSearch");
        // cusparseLtSpMMAPrune(handle*, matmulDescr*, d_in, d_out, cusparseLtPruneAlg_t, cudaStream_t)
        static final MethodHandle cusparseLtSpMMAPrune = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS), "cusparseLtSpMMAPrune");
        // cusparseLtSpMMAPruneCheck(handle*, matmulDescr*, d_in, int* d_valid (device), cudaStream_t)
        static final MethodHandle cusparseLtSpMMAPruneCheck = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, ADDRESS), "cusparseLtSpMMAPruneCheck");
        // cusparseLtSpMMACompressedSize(handle*, plan*, size_t* compressedSize, size_t* compressedBufferSize)
        static final MethodHandle cusparseLtSpMMACompressedSize = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS), "cusparseLtSpMMACompressedSize");
        // cusparseLtSpMMACompress(handle*, plan*, d_dense, d_compressed, d_compressed_buffer, cudaStream_t)
        static final MethodHandle cusparseLtSpMMACompress = LIB.downcall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS), "cusparseLtSpMMACompress");
    }

    // older releases lack the name/string functions: the describer then gives null and the table is used
    static final StatusDescriber DESCRIBER = StatusDescriber.ofCStringFunctions(() -> H.cusparseLtGetErrorName, () -> H.cusparseLtGetErrorString);

    public static void check(int rc, String function) {
        if (rc != 0) throw StatusDescriber.toException(CudaLibrary.CUSPARSELT, DESCRIBER, function, rc, null);
    }

    private static void check(int rc, String function, String context) {
        if (rc != 0) throw StatusDescriber.toException(CudaLibrary.CUSPARSELT, DESCRIBER, function, rc, context);
    }

    public static LoadedLibrary library() { return H.LIB; }

    /** Initialises a handle in {@code handle} (at least {@link #HANDLE_BYTES}, 16-byte aligned). */
    public static void init(MemorySegment handle) {
        try { check((int) H.cusparseLtInit.invokeExact(handle), "cusparseLtInit"); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void destroy(MemorySegment handle) {
        try { check((int) H.cusparseLtDestroy.invokeExact(handle), "cusparseLtDestroy"); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** The library version as major*1000 + minor*100 + patch. */
    public static int version(MemorySegment handle) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) H.cusparseLtGetVersion.invokeExact(handle, out), "cusparseLtGetVersion");
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * Fails unless {@code version} (from {@link #version}) uses the enum numbering of the
     * constants above: before 0.6, cusparseComputeType meant other things by the same numbers.
     */
    public static void requireModernEnums(int version) {
        if (version < MIN_VERSION)
            throw new IllegalStateException("cuSPARSELt " + formatVersion(version) + " numbers cusparseComputeType differently from 0.6+,"
                    + " which these bindings are written for; install cuSPARSELt 0.6 or later (pip nvidia-cusparselt-cu12/cu13)"
                    + " or point SHEARS_CUDA_LIB_PATH at it");
    }

    /** 800 -> "0.8.0" */
    public static String formatVersion(int v) { return (v / 1000) + "." + (v % 1000) / 100 + "." + v % 100; }

    /** A dense matrix descriptor in {@code descr} (at least {@link #OPAQUE_BYTES}). */
    public static void denseDescriptorInit(MemorySegment handle, MemorySegment descr, long rows, long cols, long ld,
                                           int alignment, int valueType, int order) {
        try {
            check((int) H.cusparseLtDenseDescriptorInit.invokeExact(handle, descr, rows, cols, ld, alignment, valueType, order),
                    "cusparseLtDenseDescriptorInit", rows + "x" + cols + " ld " + ld + " type " + valueType + " order " + order);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** A structured (50%: 2:4 for 16-bit types) matrix descriptor in {@code descr}. */
    public static void structuredDescriptorInit(MemorySegment handle, MemorySegment descr, long rows, long cols, long ld,
                                                int alignment, int valueType, int order) {
        try {
            check((int) H.cusparseLtStructuredDescriptorInit.invokeExact(handle, descr, rows, cols, ld, alignment, valueType, order,
                    CUSPARSELT_SPARSITY_50_PERCENT), "cusparseLtStructuredDescriptorInit",
                    rows + "x" + cols + " ld " + ld + " type " + valueType + " order " + order);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void matDescriptorDestroy(MemorySegment descr) {
        try { check((int) H.cusparseLtMatDescriptorDestroy.invokeExact(descr), "cusparseLtMatDescriptorDestroy"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** {@code D = alpha op(A) op(B) + beta C}; one of A, B is structured. */
    public static void matmulDescriptorInit(MemorySegment handle, MemorySegment matmul, int opA, int opB, MemorySegment a,
                                            MemorySegment b, MemorySegment c, MemorySegment d, int computeType) {
        try {
            check((int) H.cusparseLtMatmulDescriptorInit.invokeExact(handle, matmul, opA, opB, a, b, c, d, computeType),
                    "cusparseLtMatmulDescriptorInit", "opA " + opA + " opB " + opB + " computeType " + computeType);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void matmulAlgSelectionInit(MemorySegment handle, MemorySegment algSelection, MemorySegment matmul, int alg) {
        try {
            check((int) H.cusparseLtMatmulAlgSelectionInit.invokeExact(handle, algSelection, matmul, alg), "cusparseLtMatmulAlgSelectionInit");
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * Destroys an algorithm selection where the library has the call (declared from 0.7.1; the 0.6.2
     * header does not have it); a no-op before.
     */
    public static void matmulAlgSelectionDestroy(MemorySegment algSelection) {
        if (!H.LIB.has("cusparseLtMatmulAlgSelectionDestroy")) return;
        try { check((int) H.cusparseLtMatmulAlgSelectionDestroy.invokeExact(algSelection), "cusparseLtMatmulAlgSelectionDestroy"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void matmulPlanInit(MemorySegment handle, MemorySegment plan, MemorySegment matmul, MemorySegment algSelection) {
        try { check((int) H.cusparseLtMatmulPlanInit.invokeExact(handle, plan, matmul, algSelection), "cusparseLtMatmulPlanInit"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void matmulPlanDestroy(MemorySegment plan) {
        try { check((int) H.cusparseLtMatmulPlanDestroy.invokeExact(plan), "cusparseLtMatmulPlanDestroy"); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * An int attribute of an algorithm selection ({@link #CUSPARSELT_MATMUL_ALG_CONFIG_ID},
     * {@link #CUSPARSELT_MATMUL_ALG_CONFIG_MAX_ID}, {@link #CUSPARSELT_MATMUL_SEARCH_ITERATIONS}).
     */
    public static int matmulAlgIntAttribute(MemorySegment handle, MemorySegment algSelection, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) H.cusparseLtMatmulAlgGetAttribute.invokeExact(handle, algSelection, attribute, out, JAVA_INT.byteSize()),
                    "cusparseLtMatmulAlgGetAttribute", "attribute " + attribute);
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * Sets an int attribute of an algorithm selection ({@link #CUSPARSELT_MATMUL_SEARCH_ITERATIONS},
     * {@link #CUSPARSELT_MATMUL_ALG_CONFIG_ID}); before cusparseLtMatmulPlanInit, which reads the selection.
     */
    public static void matmulAlgSetIntAttribute(MemorySegment handle, MemorySegment algSelection, int attribute, int value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = a.allocate(JAVA_INT);
            in.set(JAVA_INT, 0, value);
            check((int) H.cusparseLtMatmulAlgSetAttribute.invokeExact(handle, algSelection, attribute, in, JAVA_INT.byteSize()),
                    "cusparseLtMatmulAlgSetAttribute", "attribute " + attribute + " = " + value);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Device workspace bytes {@link #matmul} needs with this plan. */
    public static long matmulWorkspace(MemorySegment handle, MemorySegment plan) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) H.cusparseLtMatmulGetWorkspace.invokeExact(handle, plan, out), "cusparseLtMatmulGetWorkspace");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /**
     * {@code D = alpha op(A) op(B) + beta C} on one stream. {@code scalars} holds host floats alpha
     * at 0 and beta at 4; A (or B) is the compressed structured matrix; pointers are device addresses.
     */
    public static void matmul(MemorySegment handle, MemorySegment plan, MemorySegment scalars, long a, long b, long c, long d,
                              long workspace, MemorySegment stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment streams = arena.allocate(ADDRESS);
            streams.set(ADDRESS, 0, stream);
            check((int) H.cusparseLtMatmul.invokeExact(handle, plan, scalars, a, b, scalars.asSlice(4), c, d, workspace, streams, 1),
                    "cusparseLtMatmul");
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Runs every kernel configuration of the plan, keeps the fastest in {@code plan} and leaves D computed. */
    public static void matmulSearch(MemorySegment handle, MemorySegment plan, MemorySegment scalars, long a, long b, long c, long d,
                                    long workspace, MemorySegment stream) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment streams = arena.allocate(ADDRESS);
            streams.set(ADDRESS, 0, stream);
            check((int) H.cusparseLtMatmulSearch.invokeExact(handle, plan, scalars, a, b, scalars.asSlice(4), c, d, workspace, streams, 1),
                    "cusparseLtMatmulSearch");
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Prunes the dense structured operand {@code in} to the 2:4 pattern into {@code out} (may be the same). */
    public static void spmmaPrune(MemorySegment handle, MemorySegment matmul, long in, long out, int pruneAlg, MemorySegment stream) {
        try {
            check((int) H.cusparseLtSpMMAPrune.invokeExact(handle, matmul, in, out, pruneAlg, stream), "cusparseLtSpMMAPrune",
                    "pruneAlg " + pruneAlg);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Queues the 2:4 check of {@code in}; writes 0 to the device int at {@code validDevice} when it follows the pattern. */
    public static void spmmaPruneCheck(MemorySegment handle, MemorySegment matmul, long in, long validDevice, MemorySegment stream) {
        try {
            check((int) H.cusparseLtSpMMAPruneCheck.invokeExact(handle, matmul, in, validDevice, stream), "cusparseLtSpMMAPruneCheck");
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** {compressed bytes, compression work-buffer bytes} for the plan's structured operand. */
    public static long[] spmmaCompressedSize(MemorySegment handle, MemorySegment plan) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG), buffer = a.allocate(JAVA_LONG);
            check((int) H.cusparseLtSpMMACompressedSize.invokeExact(handle, plan, size, buffer), "cusparseLtSpMMACompressedSize");
            return new long[] {size.get(JAVA_LONG, 0), buffer.get(JAVA_LONG, 0)};
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Compresses the pruned dense operand into {@code compressed}, using {@code buffer} as scratch. */
    public static void spmmaCompress(MemorySegment handle, MemorySegment plan, long dense, long compressed, long buffer,
                                     MemorySegment stream) {
        try {
            check((int) H.cusparseLtSpMMACompress.invokeExact(handle, plan, dense, compressed, buffer, stream), "cusparseLtSpMMACompress");
        } catch (Throwable t) { throw Native.rethrow(t); }
    }
}
