package dev.shears.cli;

import dev.shears.cli.report.ClassLabels;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Model;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Meets a data set's class names with a model's ({@link Model#classNames}). An image folder's
 * labels are positions among its own sorted class folder names, which are the model's outputs only
 * when the model was trained on the same folders. So where both sides have names:
 * <ul>
 *   <li>the same names in the same order: the data is used as it is;</li>
 *   <li>the folder names are some of the model's (3 of Fashion-MNIST's 10, or all of them in another
 *       order): each folder's samples get the model's index of its name, said on the log; a name
 *       matches loosely too ({@link #match}: "T-shirt_top" is "T-shirt/top", which no folder can be
 *       named), and a folder named by an output index ("6") is that output when the model's names
 *       are not numbers (data sets are often exported into folders 0..9);</li>
 *   <li>a model named by index ("0".."9") and data that names its classes in label order (the
 *       built-in Fashion-MNIST): label i is output i;</li>
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
     * (the same names, or names missing on a side, or a model named by index met with data that
     * names its classes in label order).
     */
    private static int[] mapping(Model model, String modelSpec, Dataset data, PrintStream log) {
        List<String> mine = model.classNames(), theirs = data.classNames();
        if (mine.isEmpty() || theirs.isEmpty()) {
            noteFewerClasses(model, data, log);
            return null;
        }
        if (mine.equals(theirs)) return null;
        String kind = data.images() ? "class folders" : "classes";
        // a model trained on folders named by index ("0".."9", as Fashion-MNIST is often exported) met with data that names its
        // classes in their own label order (the built-in Fashion-MNIST): label i is output i, as it was before either had names
        if (!data.images() && isIndexNames(mine)) {
            log.println("data: " + data.name() + ": the model's classes are named by index (" + quoted(mine) + "), so label i is output i;"
                    + " the data names them " + quoted(theirs));
            return null;
        }
        int[] map = new int[theirs.size()];
        List<String> unknown = new ArrayList<>(), pairs = new ArrayList<>();
        Map<Integer, String> taken = new HashMap<>();
        boolean identity = theirs.size() == mine.size();
        for (int i = 0; i < map.length; i++) {
            String name = theirs.get(i);
            int m = match(name, mine);
            if (m < 0) {
                unknown.add(name);
                continue;
            }
            String before = taken.putIfAbsent(m, name);
            if (before != null)
                throw new UserError(data.name() + " has two " + kind + ", \"" + before + "\" and \"" + name + "\", that both name the model's class "
                        + m + " \"" + mine.get(m) + "\" (--model " + modelSpec + "); merge them into one folder or rename one");
            map[i] = m;
            identity &= m == i;
            pairs.add(name + " -> " + m + (name.equals(mine.get(m)) ? "" : " \"" + mine.get(m) + "\""));
        }
        if (!unknown.isEmpty())
            throw new UserError(data.name() + " has " + kind + " the model --model " + modelSpec + " was not trained on: "
                    + quoted(unknown) + "; the model's classes are " + quoted(mine) + ". Give a data set whose " + kind + " are the model's"
                    + " classes (all of them or some" + (data.images() ? "; a folder may also be named by the class's output index, or by its"
                    + " name with the characters a folder name cannot hold left out, \"T-shirt_top\" for \"T-shirt/top\"" : "")
                    + "), or train a model on this data");
        log.println("data: " + data.name() + ": its " + theirs.size() + " " + kind + " are "
                + (theirs.size() == mine.size() ? "the model's " + mine.size() + " classes" + (identity ? "" : " in another order")
                        : theirs.size() + " of the model's " + mine.size() + " classes")
                + ", matched by name or index; labels follow the model's class names (" + String.join(", ", pairs) + ")");
        return map;
    }

    /**
     * The model's output that a data class named {@code name} is, or -1: the class of that very
     * name; else the one class whose name is the same once case and every character that is not a
     * letter or digit are left out, either whole or one of its '/'-separated alternatives (a folder
     * cannot be named "T-shirt/top": "T-shirt_top", "t-shirt top" and "T-shirt" are that class);
     * else, when none of the model's names is a number, a name that is the index of a named output
     * ("6", as data sets are often exported into folders 0..9) is that output (a model may have more
     * outputs than names: an output without a name is no class to score against).
     */
    static int match(String name, List<String> mine) {
        int exact = mine.indexOf(name);
        if (exact >= 0) return exact;
        Set<String> keys = keys(name);
        int found = -1;
        for (int j = 0; j < mine.size(); j++)
            if (!Collections.disjoint(keys, keys(mine.get(j)))) {
                if (found >= 0) return -1; // two classes fit the loose name: neither is chosen
                found = j;
            }
        if (found >= 0) return found;
        if (name.matches("0|[1-9][0-9]{0,8}") && mine.stream().noneMatch(n -> n.matches("[0-9]+"))) {
            int index = Integer.parseInt(name);
            if (index < mine.size()) return index;
        }
        return -1;
    }

    /** A name's loose forms: lower case with only letters and digits, whole and per '/'-separated part ("t-shirt/top": tshirttop, tshirt, top). */
    private static Set<String> keys(String name) {
        Set<String> keys = new HashSet<>();
        keys.add(loose(name));
        String[] parts = name.split("/");
        if (parts.length > 1) for (String p : parts) keys.add(loose(p));
        keys.remove("");
        return keys;
    }

    private static String loose(String s) {
        StringBuilder b = new StringBuilder();
        s.toLowerCase(Locale.ROOT).codePoints().filter(Character::isLetterOrDigit).forEach(b::appendCodePoint);
        return b.toString();
    }

    /** Whether the names are "0", "1", ... in order: a model trained on folders named by output index. */
    private static boolean isIndexNames(List<String> names) {
        for (int i = 0; i < names.size(); i++) if (!names.get(i).equals(Integer.toString(i))) return false;
        return true;
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
