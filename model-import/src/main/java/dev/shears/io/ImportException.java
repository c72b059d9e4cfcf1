package dev.shears.io;

import java.nio.file.Path;
import java.util.List;

/**
 * A model file that cannot be imported (or exported): says which file, which node or layer, what
 * is wrong and, where a choice was refused, what is supported. Shared by the Keras and ONNX
 * importers so callers (the CLI) print one kind of error.
 */
public class ImportException extends RuntimeException {
    private final Path file;
    private final String node;
    private final List<String> supported;

    public ImportException(String message, Path file, String node) {
        this(message, file, node, List.of(), null);
    }

    /**
     * @param supported what would have been accepted (layer classes, ops, ...), empty when not relevant
     * @param cause     the underlying failure, or null
     */
    public ImportException(String message, Path file, String node, List<String> supported, Throwable cause) {
        super(compose(message, file, node, supported), cause);
        this.file = file;
        this.node = node;
        this.supported = List.copyOf(supported);
    }

    private static String compose(String message, Path file, String node, List<String> supported) {
        StringBuilder sb = new StringBuilder();
        if (file != null) sb.append(file).append(": ");
        if (node != null) sb.append("'").append(node).append("': ");
        sb.append(message);
        if (!supported.isEmpty()) sb.append(" (supported: ").append(String.join(", ", supported)).append(")");
        return sb.toString();
    }

    /** The file being read or written, or null when there is none (e.g. an in-memory model). */
    public Path file() { return file; }

    /** The node or layer at fault, or null when the whole file is. */
    public String node() { return node; }

    /** What is supported instead, empty when not relevant. */
    public List<String> supported() { return supported; }
}
