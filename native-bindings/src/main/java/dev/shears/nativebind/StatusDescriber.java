package dev.shears.nativebind;

/**
 * Turns a library status into its symbolic name and description, asking the library first and
 * falling back to {@link StatusNames} when the library cannot answer. A seam so the mapping can
 * be tested without the libraries.
 */
public interface StatusDescriber {
    /** The library's name for the status, or null if it cannot say. */
    String name(int code);

    /** The library's description of the status, or null if it cannot say. */
    String description(int code);

    /**
     * A describer over a library's own {@code const char* f(status)} name and description
     * functions (cuBLAS, cuSPARSE, cuSPARSELt). The suppliers are called only when a status is
     * described, so building the describer loads nothing; a function that cannot be called gives
     * null (the caller falls back to {@link StatusNames}).
     */
    static StatusDescriber ofCStringFunctions(java.util.function.Supplier<java.lang.invoke.MethodHandle> name,
                                              java.util.function.Supplier<java.lang.invoke.MethodHandle> description) {
        return new StatusDescriber() {
            @Override public String name(int code) { return cString(name, code); }
            @Override public String description(int code) { return cString(description, code); }
        };
    }

    private static String cString(java.util.function.Supplier<java.lang.invoke.MethodHandle> fn, int code) {
        try {
            return Native.cString((java.lang.foreign.MemorySegment) fn.get().invokeExact(code));
        } catch (Throwable t) {
            return null;
        }
    }

    /**
     * Builds the exception for a failed call; never throws, whatever the describer does.
     *
     * @param context extra detail for the message (sizes, names), or null
     */
    static CudaException toException(CudaLibrary library, StatusDescriber describer, String function, int code,
                                     String context) {
        String name = null;
        String description = null;
        try {
            name = describer.name(code);
            description = describer.description(code);
        } catch (RuntimeException | LinkageError e) {
            // The library could not describe its own status (e.g. it failed to load); use the table.
        }
        if (name == null || name.isEmpty()) name = StatusNames.fallbackName(library, code);
        if (description == null) description = "";
        return new CudaException(library, function, code, name, description, context);
    }
}
