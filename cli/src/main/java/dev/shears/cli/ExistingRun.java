package dev.shears.cli;

import dev.shears.pruning.checkpoint.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A fresh run's refusal to write over the run already in its {@code --out} folder. A run writes
 * {@code model.shears} after its first epoch and the reports at the end, each atomically, so
 * without this a second command into the same folder replaced a finished run (hours of training)
 * without a word. An empty or missing folder, or one holding only other files, is fine: nothing in
 * it would be written over. {@code --overwrite} says the replacement is meant.
 */
final class ExistingRun {
    private ExistingRun() {}

    /** What a train/prune/demo run writes into its folder, and so what it would write over. */
    static final List<String> OUTPUTS = List.of("model.shears", "report.json", "report.html");

    /**
     * Refuses (exit 2) when {@code outDir} holds a run's outputs and {@code overwrite} is false.
     *
     * @param option   how the user named the folder, for the message ({@code --out runs/p})
     * @param outDir   the folder
     * @param canResume whether the command has {@code --resume} to offer for an unfinished run
     */
    static void refuse(String option, Path outDir, boolean overwrite, boolean canResume) {
        if (overwrite) return;
        List<String> there = outputsIn(outDir);
        if (there.isEmpty()) return;
        Path saved = outDir.resolve("model.shears");
        String files = String.join(", ", there);
        if (Checkpoint.isPartial(saved))
            throw new UserError(option + " holds an unfinished run (" + saved + " is partial; " + files + " there): "
                    + (canResume ? "continue it with the same command and --resume, or " : "")
                    + "choose another --out, or add --overwrite to start over there (the saved epochs are lost)");
        throw new UserError(option + " already holds " + (there.contains("model.shears") && there.size() == OUTPUTS.size() ? "a finished run" : "a run's outputs")
                + " (" + files + "), which this run would write over: choose another --out, or add --overwrite to replace "
                + (there.size() == 1 ? "it" : "them"));
    }

    /** The run outputs ({@link #OUTPUTS}) that {@code outDir} holds; empty for a missing folder. */
    static List<String> outputsIn(Path outDir) {
        List<String> there = new ArrayList<>();
        if (Files.isDirectory(outDir)) for (String name : OUTPUTS) if (Files.exists(outDir.resolve(name))) there.add(name);
        return there;
    }

    /**
     * With {@code --overwrite}, once the run is about to start: removes the old run's outputs, so
     * that a new run stopped early does not leave the old reports beside its own model.
     */
    static void clear(Path outDir) {
        for (String name : java.util.stream.Stream.concat(OUTPUTS.stream(), java.util.stream.Stream.of(TeacherModel.FILE)).toList()) {
            try {
                Files.deleteIfExists(outDir.resolve(name));
            } catch (java.io.IOException e) {
                throw new UserError("--overwrite: cannot remove " + outDir.resolve(name) + " (" + dev.shears.core.util.AtomicFiles.reason(e) + ")");
            }
        }
    }
}
