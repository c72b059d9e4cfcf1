package dev.shears.io;

import java.util.HashSet;
import java.util.Set;

/**
 * The layer names a converter has used so far, and new ones that clash with none of them: an
 * importer naming the IR nodes it adds (a Permute, a Reshape) and the Keras exporter naming the
 * Keras layers it writes both need names that stay unique within the model.
 */
public final class UniqueNames {
    private final Set<String> used = new HashSet<>();

    /** Marks {@code name} as used (a name taken from the file as it is). */
    public void add(String name) { used.add(name); }

    /** {@code base} when it is free, else the first free one of {@code base_2}, {@code base_3}, ...; marked as used. */
    public String fresh(String base) {
        String n = base;
        for (int i = 2; used.contains(n); i++) n = base + "_" + i;
        used.add(n);
        return n;
    }
}
