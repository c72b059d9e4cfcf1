package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;

/** A cuSPARSE sparse-matrix descriptor (CSR or Blocked-ELL) over caller-owned device arrays. */
public final class SparseMatrixDescriptor implements AutoCloseable {
    private final MemorySegment handle;
    private boolean closed;

    private SparseMatrixDescriptor(MemorySegment handle) { this.handle = handle; }

    /** FP32 CSR with int32 indices: rowOffsets[rows+1], colIndices[nnz], values[nnz] (device pointers). */
    public static SparseMatrixDescriptor csr(long rows, long cols, long nnz, long rowOffsets, long colIndices, long values) {
        return new SparseMatrixDescriptor(Cusparse.createCsr(rows, cols, nnz, rowOffsets, colIndices, values,
                Cusparse.CUSPARSE_INDEX_32I, Cusparse.CUDA_R_32F));
    }

    /** Blocked-ELL with int32 block-column indices, see {@link Cusparse#createBlockedEll}. */
    public static SparseMatrixDescriptor blockedEll(long rows, long cols, long blockSize, long ellCols,
                                                    long columnIndices, long values, int valueType) {
        return new SparseMatrixDescriptor(Cusparse.createBlockedEll(rows, cols, blockSize, ellCols, columnIndices, values,
                Cusparse.CUSPARSE_INDEX_32I, valueType));
    }

    public MemorySegment handle() { return handle; }

    @Override public void close() {
        if (closed) return;
        closed = true;
        Cusparse.destroySpMat(handle);
    }
}
