package dev.shears.core.cuda;

/** The device could not supply a block even after the allocator released its cache. */
public final class CudaOutOfMemoryException extends RuntimeException {
    private final long requested;

    public CudaOutOfMemoryException(String message, long requested, Throwable cause) {
        super(message, cause);
        this.requested = requested;
    }

    /** Bytes asked for. */
    public long requested() { return requested; }
}
