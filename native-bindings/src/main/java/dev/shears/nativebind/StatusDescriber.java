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
