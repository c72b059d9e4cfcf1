package dev.shears.cli.report;

import java.util.ArrayList;
import java.util.List;

/**
 * How a model's classes are written for people, in one place so that {@code shears inspect}, {@code eval}, the run's log
 * and the report page name a class the same way.
 */
public final class ClassLabels {

    private ClassLabels() {}

    /** Most names {@link #indexed} lists; the rest are counted, and the JSON outputs keep them all. */
    public static final int INDEXED = 100;

    /**
     * The names with their output indices, "0 Ankle boot, 1 Bag, ..." ({@value #INDEXED} at most); past that, ", ... " then
     * {@code more} (say, "(report.json lists all)"), which is where the reader finds the rest.
     */
    public static String indexed(List<String> names, String more) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < Math.min(INDEXED, names.size()); i++) out.add(i + " " + names.get(i));
        if (names.size() > INDEXED) out.add("... " + more);
        return String.join(", ", out);
    }

    /** "class 3": how a class is written where the model has no name for it. */
    public static String unnamed(int index) { return "class " + index; }

    /** The class's name, or {@link #unnamed} where the model has none. */
    public static String label(int index, String name) { return name != null ? name : unnamed(index); }
}
