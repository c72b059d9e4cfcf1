package dev.shears.kernels;

import dev.shears.nativebind.Cuda;
import dev.shears.nativebind.CudaModule;
import dev.shears.nativebind.CudaStream;
import dev.shears.nativebind.KernelArgs;
import dev.shears.nativebind.PinnedBuffer;

import java.lang.foreign.MemorySegment;

/**
 * What every launcher needs: the loaded kernel image, the stream work goes to, one reusable
 * argument buffer, scratch device memory, and a small device/pinned-host pair for scalar results
 * (counts and sums the kernels reduce into). Single-threaded, like the backend that owns it.
 */
public final class KernelRuntime implements AutoCloseable {
    /** Threads per block for element-wise kernels. */
    public static final int BLOCK = 256;
    /** Bytes of the scalar-result area. */
    public static final int RESULT_BYTES = 64;

    private final CudaModule module;
    private final CudaStream stream;
    private final DeviceMemory memory;
    private final KernelArgs args = new KernelArgs(24);
    /** Grid-stride kernels get at most this many blocks: enough to fill the GPU several times. */
    private final int maxGrid;
    /** RESULT_BYTES of device memory for scalar results */
    private final long results;
    /** RESULT_BYTES of pinned host memory mirroring {@link #results} */
    private final PinnedBuffer resultsHost;
    /** kernel launches issued from the host so far (a replayed CUDA graph issues none) */
    private long launches;

    public KernelRuntime(CudaModule module, CudaStream stream, DeviceMemory memory, int multiprocessors) {
        this.module = module;
        this.stream = stream;
        this.memory = memory;
        this.maxGrid = Math.max(1, multiprocessors) * 32;
        this.results = memory.allocate(RESULT_BYTES);
        this.resultsHost = PinnedBuffer.allocate(RESULT_BYTES);
    }

    public CudaStream stream() { return stream; }

    public DeviceMemory memory() { return memory; }

    /** A kernel by name, failing with the image's name if the fatbin lacks it. */
    public Kernel kernel(String name) { return new Kernel(name, module.function(name)); }

    /** The argument buffer, cleared for the next launch. */
    public KernelArgs args() { return args.reset(); }

    /** Blocks for a grid-stride kernel over {@code n} elements. */
    public int gridFor(long n) {
        long blocks = (n + BLOCK - 1) / BLOCK;
        return (int) Math.max(1, Math.min(blocks, maxGrid));
    }

    /** The most blocks {@link #gridFor} gives: 32 per multiprocessor. */
    public int maxGrid() { return maxGrid; }

    /** Launches {@code k} with the arguments added since {@link #args()}. */
    public void launch(Kernel k, long gridX, int gridY, int block, int sharedBytes) {
        if (gridX < 1 || gridX > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(k.name() + ": grid of " + gridX + " blocks outside [1, 2^31-1]");
        }
        if (gridY < 1 || gridY > 65535) throw new IllegalArgumentException(k.name() + ": grid y of " + gridY + " outside [1, 65535]");
        launches++;
        Cuda.launchKernel(k.function(), (int) gridX, gridY, 1, block, 1, 1, sharedBytes, stream.handle(), args.pointers(), k.name());
    }

    /** Kernel launches issued from the host through this runtime so far (for tests that check a step was replayed from a graph). */
    public long launches() { return launches; }

    /** Element-wise launch: {@link #gridFor} blocks of {@link #BLOCK} threads. */
    public void launch1d(Kernel k, long n) { launch(k, gridFor(n), 1, BLOCK, 0); }

    /** Row launch for the warp-per-row kernels (warp_rows.cuh): blocks of {@link #BLOCK} threads, BLOCK / 32 rows each. */
    public void launchWarpRows(Kernel k, long rows) {
        int rowsPerBlock = BLOCK / 32;
        launch(k, (rows + rowsPerBlock - 1) / rowsPerBlock, 1, BLOCK, 0);
    }

    /** Device pointer to the scalar-result area plus {@code offset}. */
    public long result(int offset) { return results + offset; }

    /** Zeroes the scalar-result area (asynchronously, on the stream). */
    public void clearResults() { Cuda.memsetD8Async(results, (byte) 0, RESULT_BYTES, stream.handle()); }

    /** Copies the scalar-result area to the host and waits for the stream; returns the host copy. */
    public MemorySegment readResults() {
        Cuda.memcpyDtoHAsync(resultsHost.segment(), results, RESULT_BYTES, stream.handle());
        stream.synchronize();
        return resultsHost.segment();
    }

    @Override public void close() {
        try {
            memory.free(results);
        } finally {
            resultsHost.close();
            args.close();
        }
    }
}
