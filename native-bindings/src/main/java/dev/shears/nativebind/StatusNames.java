package dev.shears.nativebind;

import java.util.Map;

/**
 * Fallback names for the statuses of each library, used only when the library's own
 * name function (cuGetErrorName, cublasGetStatusName, cusparseGetErrorName) cannot be called,
 * e.g. a status from a call made while the library is half-initialised. Values are from
 * cuda.h (CUresult), cublas_api.h (cublasStatus_t) and cusparse.h (cusparseStatus_t).
 */
public final class StatusNames {
    private StatusNames() {}

    public static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    public static final int CUDA_ERROR_NO_DEVICE = 100;
    public static final int CUBLAS_STATUS_ALLOC_FAILED = 3;
    public static final int CUSPARSE_STATUS_ALLOC_FAILED = 2;

    private static final Map<Integer, String> DRIVER = Map.ofEntries(
            Map.entry(0, "CUDA_SUCCESS"),
            Map.entry(1, "CUDA_ERROR_INVALID_VALUE"),
            Map.entry(2, "CUDA_ERROR_OUT_OF_MEMORY"),
            Map.entry(3, "CUDA_ERROR_NOT_INITIALIZED"),
            Map.entry(4, "CUDA_ERROR_DEINITIALIZED"),
            Map.entry(34, "CUDA_ERROR_STUB_LIBRARY"),
            Map.entry(36, "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER"),
            Map.entry(46, "CUDA_ERROR_DEVICE_UNAVAILABLE"),
            Map.entry(100, "CUDA_ERROR_NO_DEVICE"),
            Map.entry(101, "CUDA_ERROR_INVALID_DEVICE"),
            Map.entry(200, "CUDA_ERROR_INVALID_IMAGE"),
            Map.entry(201, "CUDA_ERROR_INVALID_CONTEXT"),
            Map.entry(209, "CUDA_ERROR_NO_BINARY_FOR_GPU"),
            Map.entry(218, "CUDA_ERROR_INVALID_PTX"),
            Map.entry(222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"),
            Map.entry(400, "CUDA_ERROR_INVALID_HANDLE"),
            Map.entry(500, "CUDA_ERROR_NOT_FOUND"),
            Map.entry(600, "CUDA_ERROR_NOT_READY"),
            Map.entry(700, "CUDA_ERROR_ILLEGAL_ADDRESS"),
            Map.entry(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"),
            Map.entry(702, "CUDA_ERROR_LAUNCH_TIMEOUT"),
            Map.entry(710, "CUDA_ERROR_ASSERT"),
            Map.entry(715, "CUDA_ERROR_ILLEGAL_INSTRUCTION"),
            Map.entry(716, "CUDA_ERROR_MISALIGNED_ADDRESS"),
            Map.entry(719, "CUDA_ERROR_LAUNCH_FAILED"),
            Map.entry(800, "CUDA_ERROR_NOT_PERMITTED"),
            Map.entry(801, "CUDA_ERROR_NOT_SUPPORTED"),
            Map.entry(803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"),
            Map.entry(900, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"),
            Map.entry(901, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED"),
            Map.entry(999, "CUDA_ERROR_UNKNOWN"));

    private static final Map<Integer, String> CUBLAS = Map.ofEntries(
            Map.entry(0, "CUBLAS_STATUS_SUCCESS"),
            Map.entry(1, "CUBLAS_STATUS_NOT_INITIALIZED"),
            Map.entry(3, "CUBLAS_STATUS_ALLOC_FAILED"),
            Map.entry(7, "CUBLAS_STATUS_INVALID_VALUE"),
            Map.entry(8, "CUBLAS_STATUS_ARCH_MISMATCH"),
            Map.entry(11, "CUBLAS_STATUS_MAPPING_ERROR"),
            Map.entry(13, "CUBLAS_STATUS_EXECUTION_FAILED"),
            Map.entry(14, "CUBLAS_STATUS_INTERNAL_ERROR"),
            Map.entry(15, "CUBLAS_STATUS_NOT_SUPPORTED"),
            Map.entry(16, "CUBLAS_STATUS_LICENSE_ERROR"));

    private static final Map<Integer, String> CUSPARSE = Map.ofEntries(
            Map.entry(0, "CUSPARSE_STATUS_SUCCESS"),
            Map.entry(1, "CUSPARSE_STATUS_NOT_INITIALIZED"),
            Map.entry(2, "CUSPARSE_STATUS_ALLOC_FAILED"),
            Map.entry(3, "CUSPARSE_STATUS_INVALID_VALUE"),
            Map.entry(4, "CUSPARSE_STATUS_ARCH_MISMATCH"),
            Map.entry(5, "CUSPARSE_STATUS_MAPPING_ERROR"),
            Map.entry(6, "CUSPARSE_STATUS_EXECUTION_FAILED"),
            Map.entry(7, "CUSPARSE_STATUS_INTERNAL_ERROR"),
            Map.entry(8, "CUSPARSE_STATUS_MATRIX_TYPE_NOT_SUPPORTED"),
            Map.entry(9, "CUSPARSE_STATUS_ZERO_PIVOT"),
            Map.entry(10, "CUSPARSE_STATUS_NOT_SUPPORTED"),
            Map.entry(11, "CUSPARSE_STATUS_INSUFFICIENT_RESOURCES"));

    /**
     * The fallback symbolic name of a status, or the status type and code (e.g. {@code "CUresult 12345"})
     * when the table does not know it.
     */
    public static String fallbackName(CudaLibrary library, int code) {
        Map<Integer, String> table = switch (library) {
            case DRIVER -> DRIVER;
            case CUBLAS -> CUBLAS;
            case CUSPARSE, CUSPARSELT -> CUSPARSE;
        };
        String name = table.get(code);
        if (name != null) return name;
        return switch (library) {
            case DRIVER -> "CUresult " + code;
            case CUBLAS -> "cublasStatus_t " + code;
            case CUSPARSE, CUSPARSELT -> "cusparseStatus_t " + code;
        };
    }
}
