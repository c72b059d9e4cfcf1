package dev.shears.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a run interrupted by Ctrl-C (SIGINT) or SIGTERM tells the user: which epoch it was in, the
 * last epoch saved in {@code model.shears} and the command that continues it ({@code --resume}
 * added). A signal runs only the JVM's shutdown hooks, so without this the run died silently and
 * the user did not know that a checkpoint existed nor what to type.
 *
 * <p>The hook only prints: it writes no file. A save in flight is the atomic write's own business
 * (its temporary file is deleted by {@link dev.shears.core.util.AtomicFiles}' hook, and
 * {@code model.shears} keeps the previous epoch, or already holds this one if the move happened
 * first); which of the two it holds does not change the command that continues the run. It is
 * registered as the run starts ({@link #starting}: the test pass before training comes before
 * epoch 1) and removed when the run ends, however it ends ({@link #disarm}), so a command that
 * trains nothing never has one.
 *
 * <p>Loading the data comes before that, and decoding a folder of images can take minutes: while
 * {@code --data} loads ({@link #forLoading}, {@link DecodeLine#load}) a hook of its own says what
 * was being loaded and how many images were decoded, that nothing was saved yet, and with
 * {@code --resume} that the saved run is untouched and the same command continues it. Any bar on
 * the screen is ended first ({@link Progress#interrupted}), so the message does not land on it.
 *
 * <p>Commands that write nothing until they finish say what they were doing ({@link #working}): eval and
 * sensitivity loading the model and evaluating (sensitivity at which layer and level, {@link #at}), predict
 * decoding its images and running the model; each removes the hook before it writes its outputs.
 */
final class Interruption {
    /** The checkpoint the run saves each epoch into. */
    private final Path checkpoint;
    /** The command line that started the run (after "shears"), or null where the command has no --resume (the demo). */
    private final List<String> args;
    private final PrintStream err;
    /** The bar the command draws (ended before the message), or null. */
    private final Progress progress;
    private final Thread hook = new Thread(this::fire, "shears-interrupted-run");

    // written by the training thread, read by the hook's
    private volatile int epoch, epochs, saved, saving;
    private volatile boolean finished, armed;
    // the loading phase (forLoading): what is loading, and images decoded of how many (total 0: not decoding images yet)
    private volatile String loading;
    private volatile int decoded, toDecode;
    /** The data has loaded and the run is being set up (the model, the backend): the run's own hook takes over as it starts. */
    private volatile boolean loaded;
    // a command's work that writes nothing, after the load (eval's test pass): "evaluating X on Y", counted in decoded of toDecode units
    private volatile String task, unit;
    /** Where in the task it is ("fc2/kernel pruned to 90%"), or null. */
    private volatile String step;

    /** The hook registered now, if any: one at a time, the run's taking over from the loading one ({@link #arm}). */
    private static final java.util.concurrent.atomic.AtomicReference<Interruption> ACTIVE = new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * @param saved    the epoch already saved in {@code checkpoint} when the run starts (a resumed run's), else 0
     * @param progress the run's progress bar, ended before the message; null for none
     */
    Interruption(Path checkpoint, List<String> args, int saved, PrintStream err, Progress progress) {
        this.checkpoint = checkpoint;
        this.args = args == null ? null : List.copyOf(args);
        this.saved = saved;
        this.err = err;
        this.progress = progress;
    }

    /**
     * What a command says when a signal stops it while {@code --data} loads ({@link #loading}).
     *
     * @param savedRun the checkpoint {@code --resume} continues from, which the load has not touched; null for a fresh
     *                 run or a command that writes no run (eval)
     * @param args     the command line (after "shears"), printed to continue a resumed run; ignored without savedRun
     */
    static Interruption forLoading(Path savedRun, List<String> args, PrintStream err, Progress progress) {
        return new Interruption(savedRun, savedRun == null ? null : args, 0, err, progress);
    }

    /** {@code what} (the --data value, or one split of an image folder: "DIR (train)") starts loading; the first call registers the hook. */
    void loading(String what, int total) {
        loading = what;
        toDecode = total;
        decoded = 0;
        arm();
    }

    /** {@code done} of the images being loaded are decoded (or of the units of the {@link #working} task done). */
    void decoded(int done) { decoded = done; }

    /**
     * The command goes on with {@code task} ("evaluating model.shears on pets (test)"), {@code total} {@code unit}s of it,
     * counted with {@link #decoded}; it writes nothing, and the hook (registered again) says how far it got.
     */
    void working(String task, int total, String unit) {
        this.unit = unit;
        toDecode = total;
        decoded = 0;
        step = null;
        this.task = task;
        arm();
    }

    /** The {@link #working} task is now at {@code step} (sensitivity: "fc2/kernel pruned to 90%"), said after the task. */
    void at(String step) { this.step = step; }

    /**
     * {@code what} has loaded and the run is being set up (the backend, the model): the hook stays until the run's own
     * takes over ({@link #starting}), or the command returns ({@link #disarmAll}).
     */
    void loaded(String what) {
        loading = what;
        loaded = true;
    }

    /**
     * The run of {@code n} epochs is about to start: what comes before its first epoch (the test pass before training,
     * a teacher's logits) can take a while too, and registers the hook.
     */
    void starting(int n) {
        epochs = n;
        arm();
    }

    /** Epoch {@code e} of {@code n} starts; the first one registers the hook. */
    void epochStarted(int e, int n) {
        epoch = e;
        epochs = n;
        arm();
    }

    /** Registers the hook, removing the one registered before it (the loading phase's, when the run's own starts). */
    private void arm() {
        if (armed) return;
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            armed = true;
        } catch (IllegalStateException alreadyShuttingDown) {
            // the JVM is stopping already: there is no hook to add, and the run stops with it
            return;
        }
        Interruption before = ACTIVE.getAndSet(this);
        if (before != null && before != this) before.disarm();
    }

    /** The save of epoch {@code e} begins. */
    void saving(int e) { saving = e; }

    /** Epoch {@code e} is in {@code model.shears}. */
    void saved(int e) {
        saved = e;
        saving = 0;
    }

    /** The finished model is written: an interruption from now on loses nothing. */
    void finished() { finished = true; }

    /** Removes the hook (the run has ended, normally or by an error the command reports itself). */
    void disarm() {
        if (!armed) return;
        armed = false;
        ACTIVE.compareAndSet(this, null);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or ran: it said what it had to
        }
    }

    /** Whether the hook is registered. */
    boolean armed() { return armed; }

    /**
     * Removes whichever hook is registered: the command has returned (normally, or failing with its own message), and
     * the {@code System.exit} that follows runs shutdown hooks too. {@link Shears#execute} calls it.
     */
    static void disarmAll() {
        Interruption i = ACTIVE.getAndSet(null);
        if (i != null) i.disarm();
    }

    /** Whether a run's hook has fired: the JVM is stopping on a signal, after saying how to continue. */
    static boolean fired() { return FIRED.get(); }

    private static final java.util.concurrent.atomic.AtomicBoolean FIRED = new java.util.concurrent.atomic.AtomicBoolean();

    private void fire() {
        FIRED.set(true);
        String m = message();
        if (m == null) return;
        if (progress != null) progress.interrupted(); // ends a bar drawn in place, and stops the threads still drawing it
        else err.println();
        err.println(m);
        err.flush();
    }

    /** What the hook says now; null for nothing. */
    String message() {
        if (task != null) return workingMessage(task, step, decoded, toDecode, unit);
        String resume = args == null ? null : "shears " + shellQuote(withResume(args));
        return loading != null && epochs == 0 ? loadingMessage(loading, loaded, decoded, toDecode, checkpoint, resume)
                : message(resume, args != null && hasResume(args), checkpoint, epoch, epochs, saved, saving, finished);
    }

    /**
     * What to say when a command that writes nothing is interrupted at its work ({@link #working}).
     *
     * @param task  what it was doing: "evaluating model.shears on pets (test)"
     * @param step  where in it, or null: "fc2/kernel pruned to 90%"
     * @param done  units done
     * @param total units in all; 0 for work not counted (loading the model), where no count is said
     * @param unit  what a unit is ("sample", "evaluation", "image"), singular
     */
    static String workingMessage(String task, String step, int done, int total, String unit) {
        String where = "interrupted while " + task + (step == null ? "" : ", at " + step);
        if (total > 0) where += String.format(Locale.ROOT, ": %d of %s done", done, Plural.of(total, unit));
        return where + "; nothing was written";
    }

    /**
     * What to say when the command is interrupted while its data loads.
     *
     * @param what          the --data value, or the split of an image folder being decoded ("DIR (train)")
     * @param loaded        the data has loaded, and the run is being set up
     * @param decoded       images decoded so far
     * @param total         images to decode; 0 before an image folder's decoding starts (or for data that is not images)
     * @param savedRun      the checkpoint a --resume continues from, or null
     * @param resumeCommand the command that continues it (with savedRun)
     */
    static String loadingMessage(String what, boolean loaded, int decoded, int total, Path savedRun, String resumeCommand) {
        String where = loaded ? "interrupted after loading " + what + ", before the run started"
                : total > 0
                ? String.format(Locale.ROOT, "interrupted while loading %s: %d of %s decoded", what, decoded, Plural.of(total, "image"))
                : "interrupted while loading " + what;
        if (savedRun == null) return where + "; nothing was saved yet";
        return where + "; nothing new was saved, and the run saved in " + savedRun + " is untouched; continue with: " + resumeCommand;
    }

    /**
     * What to say when the run is interrupted; null when there is nothing to say.
     *
     * @param resumeCommand the command that continues the run, or null where there is none (the demo)
     * @param resumed       whether the command line has {@code --resume}: a run that must start again is then told to
     *                      drop it, while a fresh one runs the same command again
     * @param epoch         the epoch under way (1-based), 0 before the first starts ({@link #starting})
     * @param epochs        the run's epochs; 0 before it is {@link #starting}, where there is nothing to say
     * @param saved         the last epoch saved in {@code checkpoint}, 0 for none
     * @param saving        the epoch whose save is under way, 0 for none
     * @param finished      whether the finished model has been written
     */
    static String message(String resumeCommand, boolean resumed, Path checkpoint, int epoch, int epochs, int saved, int saving, boolean finished) {
        if (finished || epochs == 0) return null;
        String where = epoch == 0 ? String.format(Locale.ROOT, "interrupted before epoch %d of %d started", saved + 1, epochs)
                : epoch > saved ? String.format(Locale.ROOT, "interrupted during epoch %d of %d", epoch, epochs)
                : epoch < epochs ? String.format(Locale.ROOT, "interrupted after epoch %d of %d", epoch, epochs)
                : String.format(Locale.ROOT, "interrupted after the last epoch (%d), while writing the finished model", epochs);
        if (saved == 0 && saving == 0)
            return where + ": nothing was saved yet (the first save is at the end of epoch 1), so the run must start again"
                    + (resumeCommand == null ? "" : resumed ? " (the same command, without --resume)" : ": run the same command");
        // a first save cut short leaves no model.shears at all (the write is atomic): there is no "epoch 0" to resume
        String state = saving > saved
                ? String.format(Locale.ROOT, "epoch %d was being saved, so %s holds epoch %d if that save finished, else %s",
                        saving, checkpoint, saving, saved == 0 ? "nothing was saved and the run must start again" : "epoch " + saved)
                : String.format(Locale.ROOT, "the last saved state is epoch %d in %s", saved, checkpoint);
        if (resumeCommand == null)
            return where + ": " + state + " (a partial model, usable with eval and inspect); this command has no --resume: run it again to start over";
        return where + ": " + state + "; continue with: " + resumeCommand;
    }

    /**
     * The arguments that continue the run: {@code --resume} added where absent, {@code --overwrite}
     * dropped (it would replace the saved run, and is refused with --resume).
     */
    static List<String> withResume(List<String> args) {
        List<String> a = new ArrayList<>();
        for (String s : args) if (!s.equals("--overwrite") && !s.startsWith("--overwrite=")) a.add(s);
        if (!hasResume(a)) a.add("--resume");
        return a;
    }

    /** Whether {@code args} hold {@code --resume} (or {@code --resume=...}). */
    static boolean hasResume(List<String> args) {
        for (String s : args) if (s.equals("--resume") || s.startsWith("--resume=")) return true;
        return false;
    }

    /** Characters a POSIX shell leaves alone in a word; anything else gets the word single-quoted. */
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    /** The words joined for a POSIX shell: each single-quoted where it needs it ({@code '} written as {@code '\''}). */
    static String shellQuote(List<String> words) {
        StringBuilder sb = new StringBuilder();
        for (String w : words) {
            if (!sb.isEmpty()) sb.append(' ');
            sb.append(PLAIN.matcher(w).matches() ? w : "'" + w.replace("'", "'\\''") + "'");
        }
        return sb.toString();
    }
}
