package dev.shears.nativebind;

import java.util.List;

/**
 * A CUDA library could not be loaded, or a symbol it should export is missing. The message lists
 * every place that was tried and why each failed, and says how to point Shears at the library.
 */
public final class NativeLibraryException extends RuntimeException {
    private final String summary;
    private final List<String> tried;

    public NativeLibraryException(String summary, List<String> tried) {
        super(summary + (tried.isEmpty() ? "" : "; tried:\n  " + String.join("\n  ", tried)));
        this.summary = summary;
        this.tried = List.copyOf(tried);
    }

    /** The message without the list of places tried. */
    public String summary() { return summary; }

    /** Each location tried, as {@code "path: why it failed"}, in search order. */
    public List<String> tried() { return tried; }
}
