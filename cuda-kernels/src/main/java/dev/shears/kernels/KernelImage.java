package dev.shears.kernels;

import dev.shears.nativebind.CudaModule;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The fatbin that the build compiles from {@code src/main/cuda} (SASS for sm_80 and sm_90, PTX for
 * compute_90), read from the classpath once. A build without nvcc has no such resource; then
 * {@link #unavailabilityCause()} says so and how to fix it.
 */
public final class KernelImage {
    private KernelImage() {}

    /** Classpath location of the fatbin. */
    public static final String RESOURCE = "/dev/shears/kernels/shears_kernels.fatbin";

    /** The first four bytes of a fatbin, 0xBA55ED50 little-endian. */
    public static final int FATBIN_MAGIC = 0xBA55ED50;

    private static final class Holder {
        static final byte[] BYTES = read();

        private static byte[] read() {
            try (InputStream in = KernelImage.class.getResourceAsStream(RESOURCE)) {
                return in == null ? null : in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException("reading the kernel image " + RESOURCE, e);
            }
        }
    }

    public static boolean isPresent() { return Holder.BYTES != null; }

    /** Why the image cannot be used, or null when it is present. */
    public static String unavailabilityCause() {
        if (Holder.BYTES != null) return null;
        return "the CUDA kernel image " + RESOURCE + " is not on the classpath: this build of cuda-kernels ran "
                + "without nvcc (install the CUDA toolkit's nvcc at /usr/local/bin/nvcc or /usr/local/cuda/bin/nvcc, "
                + "or pass -Dnvcc=/path/to/nvcc, and rebuild)";
    }

    /** A copy of the image's bytes. */
    public static byte[] bytes() {
        if (Holder.BYTES == null) throw new IllegalStateException(unavailabilityCause());
        return Holder.BYTES.clone();
    }

    /** Loads the image into the current CUDA context. */
    public static CudaModule load() {
        if (Holder.BYTES == null) throw new IllegalStateException(unavailabilityCause());
        return CudaModule.load(Holder.BYTES, "kernel image " + RESOURCE);
    }
}
