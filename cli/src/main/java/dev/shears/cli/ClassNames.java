package dev.shears.cli;

import dev.shears.cli.report.ClassLabels;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Model;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Meets a data set's class names with a model's ({@link Model#classNames}). An image folder's
 * labels are positions among its own sorted class folder names, which are the model's outputs only
 * when the model was trained on the same folders. So where both sides have names:
 * <ul>
 *   <li>the same names in the same order: the data is used as it is;</li>
 *   <li>the folder names are some of the model's (3 of Fashion-MNIST's 10, or all of them in another
 *       order): each folder's samples get the model's index of its name, said on the log;</li>
 *   <li>a folder the model has no class of: refused ({@link UserError}, exit 2) naming the folders
 *       the model lacks and the model's names, since no output could be right for its samples.</li>
 * </ul>
 * Where either side has no names (IDX and NumPy data, a model trained on them or imported without
 * names) the labels are used as they are, positions, as before names were kept; an image folder
 * with fewer classes than a model without names has outputs is noted, as nothing can check it.
 */
final class ClassNames {
    private ClassNames() {}

    /** The split with its labels as the model's indices (both splits hold the same class folders: one mapping, said once). */
    static Split reconcile(Model model, String modelSpec, Split data, PrintStream log) {
        int[] map = mapping(model, modelSpec, data.train(), log);
        return map == null ? data : new Split(relabel(data.train(), map, model), relabel(data.test(), map, model));
    }

    /** The data set with its labels as the model's indices. */
    static Dataset reconcile(Model model, String modelSpec, Dataset data, PrintStream log) {
        int[] map = mapping(model, modelSpec, data, log);
        return map == null ? data : relabel(data, map, model);
    }

    /**
     * The model's index of each of the data's classes, or null when the labels stay as they are
     * (the same names, or names missing on a side).
     */
    private static int[] mapping(Model model, String modelSpec, Dataset data, PrintStream log) {
        List<String> mine = model.classNames(), theirs = data.classNames();
        if (mine.isEmpty() || theirs.isEmpty()) {
            noteFewerClasses(model, data, log);
            return null;
        }
        if (mine.equals(theirs)) return null;
        List<String> unknown = theirs.stream().filter(n -> !mine.contains(n)).toList();
        if (!unknown.isEmpty())
            throw new UserError(data.name() + " has class folders the model --model " + modelSpec + " was not trained on: "
                    + quoted(unknown) + "; the model's classes are " + quoted(mine) + ". Give a data set whose class folders are the model's"
                    + " classes (all of them or some), or train a model on this data");
        int[] map = new int[theirs.size()];
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < map.length; i++) {
            map[i] = mine.indexOf(theirs.get(i));
            pairs.add(theirs.get(i) + " -> " + map[i]);
        }
        log.println("data: " + data.name() + ": its " + theirs.size() + " class folders are "
                + (theirs.size() == mine.size() ? "the model's " + mine.size() + " classes in another order" : theirs.size() + " of the model's " + mine.size() + " classes")
                + ", matched by name; labels follow the model's class names (" + String.join(", ", pairs) + ")");
        return map;
    }

    private static Dataset relabel(Dataset d, int[] map, Model model) {
        int[] labels = new int[d.count()];
        for (int i = 0; i < labels.length; i++) labels[i] = map[d.labels()[i]];
        return d.withLabels(labels, model.classNames().size(), model.classNames());
    }

    /**
     * Says when an image folder has fewer class folders than a model without names has outputs: its
     * labels are positions among its own sorted folder names, so a subset of the classes a model was
     * trained on (3 of Fashion-MNIST's 10) is scored against the wrong outputs (0% accuracy), and
     * without the model's class names this can only be warned of.
     */
    private static void noteFewerClasses(Model model, Dataset data, PrintStream log) {
        long outputs = model.outputShape().size();
        if (data.images() && data.classes() < outputs)
            log.println("data: note: " + data.name() + " has " + data.classes() + " class folders but the model has " + outputs + " outputs;"
                    + " the model has no class names to match the folders by (it was not trained on an image folder, or its file does not say), so a sample's label is its folder's position among these " + data.classes() + " sorted names, which is the model's"
                    + " output only if the model was trained on the same class folders (a subset of its classes is scored against the wrong outputs)");
    }

    /** The names with their output indices, "0 Ankle boot, 1 Bag, ..." ({@value ClassLabels#INDEXED} at most, then how many in all). */
    static String indexed(List<String> names) {
        return ClassLabels.indexed(names, "(" + names.size() + " in all; --json lists them)");
    }

    /** Names in quotes, 12 at most: "Bag", "Coat", ... */
    static String quoted(List<String> names) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < Math.min(12, names.size()); i++) out.add("\"" + names.get(i) + "\"");
        if (names.size() > 12) out.add("... (" + names.size() + " in all)");
        return String.join(", ", out);
    }
}
