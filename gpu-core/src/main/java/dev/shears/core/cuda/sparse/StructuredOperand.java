package dev.shears.core.cuda.sparse;

import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.CudaTensor;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.nativebind.StructuredMatmul;

import java.util.function.Supplier;

/**
 * The structured operand of one cuSPARSELt product, made ready: its dense 16-bit A checked with
 * cuSPARSELt's prune check, compressed, and the product autotuned ({@link StructuredMatmul#search})
 * with the workspace the kept kernel configuration needs. The one cuSPARSELt setup that
 * {@link CudaStructuredMatrix}'s plans and {@link CudaShapeSweep#structured}'s 2:4 rows share.
 *
 * @param compressed A compressed as cuSPARSELt sizes it (its kept 16-bit values and their metadata), at least 256 bytes
 * @param workspace  the workspace of the configuration the search kept, at least 256 bytes
 * @param configId   the kernel configuration the search kept ({@link StructuredMatmul#configId})
 */
record StructuredOperand(CudaTensor compressed, CudaTensor workspace, int configId) implements AutoCloseable {

    /**
     * Checks, compresses and autotunes {@code mm} for the dense 16-bit A at device address
     * {@code denseA}, the search running the product on the device B {@code b} and D {@code d} of
     * mm's shape. A that fails the prune check is refused with {@code notStructured}'s message. The
     * caller keeps A, B and D; the check flag and the compression scratch are freed here, in stream
     * order. Reads the check flag back to the host (a synchronous copy), so never inside a stream
     * capture, where the search could not run either.
     */
    static StructuredOperand prepare(CudaBackend backend, StructuredMatmul mm, long denseA, long b, long d, Supplier<String> notStructured) {
        CudaTensor valid = null, scratch = null, compressed = null, workspace = null;
        try {
            valid = bytesOnDevice(backend, 4);
            mm.checkPruned(denseA, valid.pointer(), backend.stream());
            byte[] v = backend.downloadBytes(valid);
            int flag = (v[0] & 0xff) | (v[1] & 0xff) << 8 | (v[2] & 0xff) << 16 | (v[3] & 0xff) << 24;
            if (flag != 0) throw new IllegalStateException(notStructured.get());
            long[] sizes = mm.compressedSize();
            compressed = bytesOnDevice(backend, sizes[0]);
            scratch = bytesOnDevice(backend, sizes[1]);
            mm.compress(denseA, compressed.pointer(), scratch.pointer(), backend.stream());
            workspace = bytesOnDevice(backend, mm.workspaceBytes());
            long tuned = mm.search(compressed.pointer(), b, d, workspace.pointer(), backend.stream());
            if (tuned > workspace.bytes()) { // the kept configuration needs more than the default one did
                workspace.close();
                workspace = null;
                workspace = bytesOnDevice(backend, tuned);
            }
            return new StructuredOperand(compressed, workspace, mm.configId());
        } catch (RuntimeException | Error e) {
            for (CudaTensor t : new CudaTensor[] {compressed, workspace}) if (t != null) t.close();
            throw e;
        } finally {
            // freed in stream order: the allocator reuses a block only after the work queued on it
            for (CudaTensor t : new CudaTensor[] {valid, scratch}) if (t != null) t.close();
        }
    }

    /** At least 256 bytes (a library may refuse a null buffer it asked no bytes for), 256-byte aligned by the allocator; zero-filled. */
    static CudaTensor bytesOnDevice(CudaBackend backend, long bytes) {
        return (CudaTensor) backend.allocate(Shape.of(Math.max(256, bytes)), DType.UINT8);
    }

    @Override public void close() {
        try {
            compressed.close();
        } finally {
            workspace.close();
        }
    }
}
