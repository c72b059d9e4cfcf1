package dev.shears.nativebind;

/**
 * A CUDA library call returned a non-success status. Carries the library, the function, the
 * numeric status and the library's own name and description of it, e.g.
 * {@code cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory}.
 */
public class CudaException extends RuntimeException {
    private final CudaLibrary library;
    private final String function;
    private final int code;
    private final String errorName;
    private final String errorString;

    public CudaException(CudaLibrary library, String function, int code, String errorName, String errorString) {
        this(library, function, code, errorName, errorString, null);
    }

    public CudaException(CudaLibrary library, String function, int code, String errorName, String errorString,
                         String context) {
        super(format(library, function, code, errorName, errorString, context));
        this.library = library;
        this.function = function;
        this.code = code;
        this.errorName = errorName;
        this.errorString = errorString;
    }

    static String format(CudaLibrary library, String function, int code, String errorName, String errorString,
                         String context) {
        StringBuilder sb = new StringBuilder();
        sb.append(library.displayName()).append(' ').append(function).append(" failed: ")
          .append(errorName).append(" (").append(code).append(')');
        if (errorString != null && !errorString.isEmpty() && !errorString.equals(errorName)) sb.append(": ").append(errorString);
        if (context != null && !context.isEmpty()) sb.append(" [").append(context).append(']');
        return sb.toString();
    }

    public CudaLibrary library() { return library; }

    /** The C function that failed, as exported (e.g. {@code cuMemAlloc_v2}). */
    public String function() { return function; }

    /** The numeric status (CUresult, cublasStatus_t or cusparseStatus_t). */
    public int code() { return code; }

    /** The library's symbolic name for the status, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() { return errorName; }

    /** The library's description of the status. */
    public String errorString() { return errorString; }

    /** True for the out-of-memory status of any of the libraries. */
    public boolean isOutOfMemory() {
        return switch (library) {
            case DRIVER -> code == StatusNames.CUDA_ERROR_OUT_OF_MEMORY;
            case CUBLAS -> code == StatusNames.CUBLAS_STATUS_ALLOC_FAILED;
            case CUSPARSE, CUSPARSELT -> code == StatusNames.CUSPARSE_STATUS_ALLOC_FAILED;
        };
    }
}
