package dev.shears.core.cuda;

import dev.shears.nativebind.Cuda;
import dev.shears.nativebind.CudaEvent;
import dev.shears.nativebind.CudaStream;
import dev.shears.nativebind.PinnedBuffer;

import java.lang.foreign.MemorySegment;

/**
 * Host-device copies through page-locked memory. Uploads go through two pinned buffers in turn:
 * the host fills one while the copy from the other is still in flight, so a batch upload returns
 * without waiting for the device (an event per buffer says when it may be refilled). Downloads
 * wait for the stream, as the caller needs the data. Large copies are cut into buffer-sized chunks.
 */
final class PinnedStaging implements AutoCloseable {
    /** Bytes per staging buffer. */
    static final long CHUNK = 8L << 20;

    private final CudaStream stream;
    private final PinnedBuffer[] buffers = new PinnedBuffer[2];
    private final CudaEvent[] copied = new CudaEvent[2];
    private final boolean[] inFlight = new boolean[2];
    private int next;

    PinnedStaging(CudaStream stream) {
        this.stream = stream;
        for (int i = 0; i < 2; i++) {
            buffers[i] = PinnedBuffer.allocate(CHUNK);
            copied[i] = CudaEvent.create();
        }
    }

    /** Copies {@code bytes} from {@code src} (heap or native) at {@code srcOffset} to device address {@code dst}. */
    void upload(MemorySegment src, long srcOffset, long dst, long bytes) {
        long done = 0;
        while (done < bytes) {
            long n = Math.min(CHUNK, bytes - done);
            int b = next;
            next ^= 1;
            if (inFlight[b]) copied[b].synchronize(); // the copy that last used this buffer is done
            MemorySegment.copy(src, srcOffset + done, buffers[b].segment(), 0, n);
            Cuda.memcpyHtoDAsync(dst + done, buffers[b].segment(), n, stream.handle());
            copied[b].record(stream);
            inFlight[b] = true;
            done += n;
        }
    }

    /** Copies {@code bytes} from device address {@code src} into {@code dst} at {@code dstOffset}; waits. */
    void download(long src, MemorySegment dst, long dstOffset, long bytes) {
        long done = 0;
        PinnedBuffer buf = buffers[next];
        next ^= 1;
        while (done < bytes) {
            long n = Math.min(CHUNK, bytes - done);
            Cuda.memcpyDtoHAsync(buf.segment(), src + done, n, stream.handle());
            stream.synchronize();
            MemorySegment.copy(buf.segment(), 0, dst, dstOffset + done, n);
            done += n;
        }
        inFlight[0] = inFlight[1] = false; // the stream synchronisation covered every copy
    }

    static MemorySegment heap(float[] a) { return MemorySegment.ofArray(a); }

    @Override public void close() {
        stream.synchronize();
        for (int i = 0; i < 2; i++) {
            copied[i].close();
            buffers[i].close();
        }
    }
}
