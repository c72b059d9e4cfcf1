package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/** A loaded module (from a fatbin image) and the kernels looked up in it, cached by name. */
public final class CudaModule implements AutoCloseable {
    private final MemorySegment handle;
    private final String source;
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private boolean closed;

    private CudaModule(MemorySegment handle, String source) {
        this.handle = handle;
        this.source = source;
    }

    /** Loads an image held in a byte array; {@code source} names it in errors. */
    public static CudaModule load(byte[] image, String source) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(image.length, 64);
            MemorySegment.copy(image, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, image.length);
            return new CudaModule(Cuda.moduleLoadData(seg), source);
        } catch (CudaException e) {
            throw new CudaException(e.library(), e.function(), e.code(), e.errorName(), e.errorString(),
                    "loading " + source + " (" + image.length + " bytes); a fatbin without code for this GPU's "
                            + "architecture, or PTX newer than the driver, fails here");
        }
    }

    /** The kernel named {@code name} (an extern "C" entry), failing with the module's name if absent. */
    public synchronized MemorySegment function(String name) {
        MemorySegment f = functions.get(name);
        if (f == null) {
            try {
                f = Cuda.moduleGetFunction(handle, name);
            } catch (CudaException e) {
                throw new CudaException(e.library(), e.function(), e.code(), e.errorName(), e.errorString(),
                        "kernel " + name + " in " + source);
            }
            functions.put(name, f);
        }
        return f;
    }

    public String source() { return source; }

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        functions.clear();
        Cuda.moduleUnload(handle);
    }
}
