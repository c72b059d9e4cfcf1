package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Architectures;
import dev.shears.pruning.checkpoint.Checkpoint;
import dev.shears.pruning.checkpoint.CheckpointException;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.recipe.RecipeWriter;
import dev.shears.pruning.train.TrainingState;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code --resume}: the run saved in the output folder's {@code model.shears}, checked against the
 * command line that asks to continue it. A run is identified by its labels (command, model, data,
 * seed: what the command line said, paths made absolute) and its recipe (compared as the YAML
 * Shears writes for it, so {@code --sparsity 0.9 --epochs 10} matches the same recipe however it
 * was spelled); {@code --backend} may differ (the run continues exactly only on the same backend).
 *
 * @param checkpoint the saved run: its model holds the last saved epoch's weights and masks
 * @param recipe     the run's recipe, as stored
 */
record ResumePoint(Checkpoint checkpoint, Recipe recipe) {

    /** Label keys: what the command line said, compared on resume. */
    static final String COMMAND = "command", MODEL = "model", WEIGHTS = "weights", DATA = "data", SEED = "seed";
    /** reads a checkpoint's training.json before the data loads ({@link #checkRecipeBeforeData}) */
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    /** Label keys: what the run found, compared on resume (the data may change behind the same name). */
    static final String TRAIN_DATA = "trainData", TEST_DATA = "testData";
    /** Label keys: carried along, not compared. */
    static final String DESCRIPTION = "description", SECONDS = "seconds";

    TrainingState state() { return checkpoint.training(); }

    /** Whether the saved run has finished and written its outputs: nothing to continue. */
    boolean complete() { return state().complete(); }

    /** The labels identifying a run started by this command line. */
    static Map<String, String> labels(String command, String model, Path weights, String data, long seed) {
        Map<String, String> l = new LinkedHashMap<>();
        l.put(COMMAND, command);
        l.put(MODEL, Architectures.NAMES.contains(model) && !Files.exists(Path.of(model)) ? model : absolute(model));
        if (weights != null) l.put(WEIGHTS, absolute(weights.toString()));
        l.put(DATA, data.equals("fashion-mnist") ? data : absolute(data));
        l.put(SEED, Long.toString(seed));
        return l;
    }

    /**
     * Reads {@code outDir/model.shears} and checks that it is a run this command line continues.
     *
     * @param labels what this command line says (see {@link #labels})
     * @param recipe the recipe this command line builds
     * @throws UserError when there is nothing to resume or the run is another one, naming both sides
     */
    static ResumePoint open(Path outDir, Backend backend, Map<String, String> labels, Recipe recipe) {
        String command = labels.get(COMMAND);
        Path file = outDir.resolve("model.shears");
        String fresh = "run the command without --resume to start the run";
        if (!Files.isRegularFile(file))
            throw new UserError("--resume: nothing to resume in " + outDir + " (no model.shears there); " + fresh);
        Checkpoint c;
        try {
            c = Checkpoint.read(file, backend);
        } catch (CheckpointException e) {
            throw new UserError("--resume: " + e.getMessage() + "; " + fresh + " (in another --out folder to keep this one)");
        }
        TrainingState s = c.training();
        if (s == null) {
            String stopped = c.metrics() == null ? null : c.metrics().path("stopReason").asText(null);
            throw new UserError("--resume: " + file + " holds no training state to continue from: "
                    + (stopped != null ? "the run stopped (" + stopped + ") and resuming would repeat that; change the recipe and "
                    : "it was written by an older Shears (checkpoint version 1) or not by shears train/prune; ")
                    + fresh + " (in another --out folder to keep this one)");
        }
        String started = s.labels().get(COMMAND);
        if (!command.equals(started))
            throw new UserError("--resume: the run in " + outDir + " was started by 'shears " + started + "', not 'shears " + command
                    + "'; continue it with 'shears " + started + " --resume' and its own options");
        for (String key : new String[]{MODEL, WEIGHTS, DATA, SEED}) {
            String here = labels.get(key), there = s.labels().get(key);
            if (!java.util.Objects.equals(here, there))
                throw new UserError("--resume: --" + key + " " + (here == null ? "(not given)" : here) + " differs from the run's "
                        + (there == null ? "(not given)" : there) + " (saved in " + file + "); give the run's value, or start a new run without --resume"
                        + " in another --out folder");
        }
        if (c.recipeYaml() == null) throw new UserError("--resume: " + file + " holds no recipe; " + fresh);
        Recipe stored;
        try {
            stored = RecipeParser.parse(c.recipeYaml(), file + " (recipe.yaml)", "resumed");
        } catch (RecipeException e) {
            throw new UserError("--resume: " + e.getMessage() + "; " + fresh);
        }
        requireSameRecipe(recipe, stored, file);
        return new ResumePoint(c, stored);
    }

    /**
     * With --resume, before the data loads (decoding an image folder can take minutes): refuses a
     * command line whose recipe is not the one stored in {@code outDir}'s checkpoint, as
     * {@link #open} does. A checkpoint it cannot read is left for {@link #open} to report.
     */
    static void checkRecipeBeforeData(String command, Path outDir, Recipe recipe) {
        Path file = outDir.resolve("model.shears");
        if (!Files.isRegularFile(file)) return;
        Recipe stored;
        try {
            Map<String, byte[]> read = Checkpoint.readEntries(file, "training.json", "recipe.yaml"); // one pass over the zip
            byte[] training = read.get("training.json"), yaml = read.get("recipe.yaml");
            // a run another command started is open's to explain (its recipe differs anyway)
            if (training == null || yaml == null || !command.equals(JSON.readTree(training).path("labels").path(COMMAND).asText(null))) return;
            stored = RecipeParser.parse(new String(yaml, java.nio.charset.StandardCharsets.UTF_8), file + " (recipe.yaml)", "resumed");
        } catch (CheckpointException | RecipeException | java.io.IOException e) {
            return;
        }
        requireSameRecipe(recipe, stored, file);
    }


    /** Refuses {@code recipe} unless it writes the same YAML as {@code stored}, the recipe of the run in {@code file}. */
    private static void requireSameRecipe(Recipe recipe, Recipe stored, Path file) {
        // the augmentation first, in the words of --augment: the YAML's first differing line would read "'(nothing)' here"
        if (!java.util.Objects.equals(recipe.augmentation(), stored.augmentation()))
            throw new UserError("--resume: this command line's augmentation (" + augmentation(recipe) + ") differs from the run's ("
                    + augmentation(stored) + ", saved in " + file + "); give the run's --augment" + (stored.augmentation() == null ? " (none)" : " " + stored.augmentation().spec())
                    + ", or start a new run without --resume in another --out folder");
        String mine = RecipeWriter.toYaml(recipe), theirs = RecipeWriter.toYaml(stored);
        if (!mine.equals(theirs))
            throw new UserError("--resume: this command line's recipe (" + recipe.name() + ", " + Plural.of(recipe.epochs(), "epoch") + ") differs from the run's ("
                    + stored.name() + ", " + Plural.of(stored.epochs(), "epoch") + ", saved in " + file + "): " + firstDifference(mine, theirs)
                    + "; give the run's recipe options, or start a new run without --resume in another --out folder");
    }

    /** Checks the data this command line loaded is what the run trained on (the same name can hold other files). */
    void checkData(Map<String, String> found) {
        for (String key : new String[]{TRAIN_DATA, TEST_DATA}) {
            String here = found.get(key), there = state().labels().get(key);
            if (there != null && !there.equals(here))
                throw new UserError("--resume: the data is not what the run used: " + here + " now, " + there
                        + " when the run started; restore that data, or start a new run without --resume in another --out folder");
        }
    }

    /** A recipe's augmentation as --augment writes it, or "none". */
    private static String augmentation(Recipe r) {
        return r.augmentation() == null ? "none" : r.augmentation().spec();
    }

    private static String firstDifference(String a, String b) {
        String[] x = a.split("\n"), y = b.split("\n");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            String p = i < x.length ? x[i].strip() : "(nothing)", q = i < y.length ? y[i].strip() : "(nothing)";
            if (!p.equals(q)) return "'" + p + "' here, '" + q + "' in the run";
        }
        return "they differ";
    }

    private static String absolute(String path) { return Path.of(path).toAbsolutePath().normalize().toString(); }
}
