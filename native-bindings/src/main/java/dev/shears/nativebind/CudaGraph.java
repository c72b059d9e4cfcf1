package dev.shears.nativebind;

/**
 * An executable CUDA graph captured from a stream: {@link #capture} records the work a runnable
 * issues on the stream (nothing runs), then {@link #launch} replays it with one call.
 */
public final class CudaGraph implements AutoCloseable {
    private final java.lang.foreign.MemorySegment graph;
    private final java.lang.foreign.MemorySegment exec;
    private boolean closed;

    private CudaGraph(java.lang.foreign.MemorySegment graph, java.lang.foreign.MemorySegment exec) {
        this.graph = graph;
        this.exec = exec;
    }

    /**
     * Captures the work {@code body} enqueues on {@code stream} (thread-local capture mode, so
     * other threads' CUDA calls are unaffected) and instantiates it.
     */
    public static CudaGraph capture(CudaStream stream, Runnable body) {
        Cuda.streamBeginCapture(stream.handle(), Cuda.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        java.lang.foreign.MemorySegment g;
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            try {
                Cuda.graphDestroy(Cuda.streamEndCapture(stream.handle()));
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        g = Cuda.streamEndCapture(stream.handle());
        try {
            return new CudaGraph(g, Cuda.graphInstantiate(g));
        } catch (RuntimeException e) {
            Cuda.graphDestroy(g);
            throw e;
        }
    }

    public void launch(CudaStream stream) { Cuda.graphLaunch(exec, stream.handle()); }

    @Override public void close() {
        if (closed) return;
        closed = true;
        Cuda.graphExecDestroy(exec);
        Cuda.graphDestroy(graph);
    }
}
