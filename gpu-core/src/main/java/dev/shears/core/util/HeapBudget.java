package dev.shears.core.util;

import java.util.function.Function;

/**
 * Whether an array that a few bytes of a file can size (an ONNX ConstantOfShape or a broadcast of
 * two constants, an HDF5 dataset's declared dims, a {@code .npy} header's shape) fits in the JVM's
 * free heap, checked before allocating it: a corrupt or hostile file must fail with a message, not
 * an OutOfMemoryError (nor take gigabytes a legitimate input never needs from a shared machine
 * before some later check refuses it).
 */
public final class HeapBudget {
    private HeapBudget() {}

    /** Null when {@code bytes} fit in the free heap, else why not, naming {@code what} and the sizes. */
    public static String shortfall(long bytes, String what) {
        long free = free();
        if (bytes <= free) return null;
        return what + " needs " + (bytes >> 20) + " MB, more than the " + (free >> 20) + " MB this JVM has free; is the file corrupt?"
                + " If not, give Java more heap (JAVA_OPTS=-Xmx...)";
    }

    /**
     * Throws {@code failure} when {@code bytes} that real data needs (counted, not read from a
     * header: an image folder's decoded floats) do not fit. Unlike {@link #require} it does not ask
     * whether a file is corrupt: no file's few bytes sized it.
     */
    public static void requireForData(long bytes, String what, Function<String, ? extends RuntimeException> failure) {
        long free = free();
        if (bytes <= free) return;
        throw failure.apply(what + " need " + Math.max(1, bytes >> 20) + " MB, more than the " + (free >> 20) + " MB this JVM has free"
                + " (of " + (Runtime.getRuntime().maxMemory() >> 20) + " MB at most); give Java more heap (JAVA_OPTS=-Xmx8g ./shears ...),"
                + " or use fewer or smaller images");
    }

    /** Bytes the JVM's heap can still give: the maximum heap less what is in use now. */
    public static long free() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /**
     * Throws {@code failure} of the {@link #shortfall} message when {@code bytes} do not fit: the
     * caller's own exception type, naming its file (an ImportException, a DataException).
     */
    public static void require(long bytes, String what, Function<String, ? extends RuntimeException> failure) {
        String tooLarge = shortfall(bytes, what);
        if (tooLarge != null) throw failure.apply(tooLarge);
    }
}
