package dev.shears.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;

/** The {@code shears} command. */
@Command(name = "shears", mixinStandardHelpOptions = true, versionProvider = Shears.Version.class, scope = CommandLine.ScopeType.INHERIT,
        description = "Gradual magnitude pruning on the GPU (or CPU) from Java: train, prune, evaluate, export, benchmark.",
        subcommands = {DemoCommand.class, TrainCommand.class, PruneCommand.class, EvalCommand.class, PredictCommand.class,
                InspectCommand.class, SensitivityCommand.class, ExportCommand.class, BenchCommand.class, RecipesCommand.class, CommandLine.HelpCommand.class})
public final class Shears {

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** The parent of the library's loggers (dev.shears.*); held here, since java.util.logging keeps loggers only weakly, levels and all. */
    private static final java.util.logging.Logger SHEARS_LOGGER = java.util.logging.Logger.getLogger("dev.shears");

    /** Runs the CLI with the given streams; returns the exit code (tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        // The library logs progress through System.Logger (java.util.logging here); the CLI draws its
        // own progress, so only warnings get through unless --verbose asks for everything.
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        // FINE for Shears' own loggers only: on the root logger it also let the JDK's own debug records
        // through, and --verbose ended every successful run with "Runtime.exit() called with status: 0"
        // and a stack trace of System.exit
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(java.util.logging.Level.WARNING);
        SHEARS_LOGGER.setLevel(verbose ? java.util.logging.Level.FINE : null);
        for (var h : root.getHandlers()) {
            h.setLevel(verbose ? java.util.logging.Level.FINE : java.util.logging.Level.WARNING);
            h.setFormatter(new LogFormat(verbose));
        }
        CommandLine cl = new CommandLine(new Shears());
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        // A mistyped option gets its message and where to look, not the whole usage text (which
        // pushed the one line that mattered off the screen); --help still prints it all.
        cl.setParameterExceptionHandler((ex, args2) -> {
            CommandLine bad = ex.getCommandLine();
            if (args2.length == 0) { // plain 'shears': the list of commands is the answer
                bad.usage(err);
                return bad.getCommandSpec().exitCodeOnInvalidInput();
            }
            String name = bad.getCommandSpec().qualifiedName();
            err.println(name + ": error: " + String.valueOf(ex.getMessage()).replaceFirst("^Error: ", "") + missingChoices(ex, args2));
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, new java.io.PrintWriter(err, true)); // "Did you mean: ..."
            err.println("Try '" + name + " --help' for the options.");
            return bad.getCommandSpec().exitCodeOnInvalidInput();
        });
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            boolean debug = verbose || System.getenv("SHEARS_DEBUG") != null;
            // a signal stopped the run and said how to continue; a save it cut short (its temporary file
            // removed by AtomicFiles' own hook) is part of that, not an error of its own
            if (Interruption.fired() && !debug) return exitCode(ex);
            err.println("shears " + line.getCommandName() + ": error: " + describe(ex));
            if (debug) ex.printStackTrace(err);
            else if (traceMayHelp(ex)) err.println("(run with --verbose for the stack trace)"); // a flag's mistake has no trace worth reading
            return exitCode(ex);
        });
        return execute(cl, args, err, verbose);
    }

    /**
     * {@code cl.execute(args)}, with an OutOfMemoryError (which picocli's execution handler never
     * sees: it handles Exceptions, and an Error went on to the JVM) reported like any failed run:
     * one line with what to do, exit 1, the trace only with --verbose. Pruning ResNet-50 on 16
     * ImageNet-sized images ended in a bare "Exception in thread main java.lang.OutOfMemoryError".
     */
    static int execute(CommandLine cl, String[] args, PrintStream err, boolean verbose) {
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            CommandLine.ParseResult parsed = cl.getParseResult();
            String command = parsed != null && parsed.subcommand() != null ? " " + parsed.subcommand().commandSpec().name() : "";
            err.println("shears" + command + ": error: " + describe(e));
            if (verbose || System.getenv("SHEARS_DEBUG") != null) e.printStackTrace(err);
            return 1;
        } finally {
            Interruption.disarmAll(); // a hook still registered (a command that failed before its run started) would speak at System.exit
        }
    }

    /**
     * For a missing required option: the required choices (prune's --recipe | --sparsity |
     * --structure) none of whose options were given, which picocli only checks, and names, once the
     * required options are there; empty otherwise. Plain 'shears prune' said "--model, --out" and
     * the next try failed on the recipe.
     */
    static String missingChoices(CommandLine.ParameterException ex, String[] args) {
        if (!(ex instanceof CommandLine.MissingParameterException) || ex.getMessage().contains("specify one of these")) return "";
        StringBuilder sb = new StringBuilder();
        for (CommandLine.Model.ArgGroupSpec g : ex.getCommandLine().getCommandSpec().argGroups()) {
            if (!g.exclusive() || g.multiplicity().min() < 1) continue;
            java.util.List<String> names = new java.util.ArrayList<>();
            boolean given = false;
            for (CommandLine.Model.OptionSpec o : g.allOptionsNested()) {
                names.add(o.longestName());
                for (String a : args)
                    for (String n : o.names()) given |= a.equals(n) || a.startsWith(n + "=");
            }
            if (given || names.isEmpty()) continue;
            String list = names.size() == 1 ? names.getFirst()
                    : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.getLast();
            sb.append(", and one of ").append(list);
        }
        return sb.toString();
    }

    /**
     * 2 when what the user gave is wrong: the command line ({@link UserError}), a recipe, a data
     * folder, a model or checkpoint file that does not read; 1 when a run that started fails
     * (a diverging loss, a device error, a bug). Recipe and data errors used to exit 1 while a bad
     * flag exited 2, so a script could not tell a typo in its recipe from a failed run.
     */
    static int exitCode(Throwable ex) {
        if (ex instanceof UserError u) return u.exitCode();
        if (ex instanceof dev.shears.pruning.recipe.RecipeException || ex instanceof dev.shears.core.data.DataException
                || ex instanceof dev.shears.io.ImportException || ex instanceof dev.shears.pruning.checkpoint.CheckpointException) return 2;
        return 1;
    }

    /**
     * Whether "(run with --verbose for the stack trace)" is worth a second line: not for a mistake
     * in the command line, a recipe (its message names the field, the value and what is allowed)
     * or a data folder (the file and what is wrong with it), whose traces are Shears' own checks
     * and say nothing more; README promises those "in one line naming it". A model or checkpoint
     * that does not read, and a failed run, keep it: their trace can point into an importer or a kernel.
     */
    static boolean traceMayHelp(Throwable ex) {
        return !(ex instanceof UserError || ex instanceof dev.shears.pruning.recipe.RecipeException
                || ex instanceof dev.shears.core.data.DataException);
    }

    /** A heap size as -Xmx users think of it: "1.5 GB", or "48 MB" below 1 GB (where GB to one place said "0.0 GB"). */
    static String heapSize(long bytes) {
        return bytes >= 1L << 30 ? String.format(java.util.Locale.ROOT, "%.1f GB", bytes / (double) (1L << 30)) : (bytes >> 20) + " MB";
    }

    private static String describe(Throwable ex) {
        String msg = ex.getMessage();
        if (msg == null || msg.isBlank()) msg = ex.getClass().getSimpleName();
        if (ex instanceof OutOfMemoryError) msg = String.format(java.util.Locale.ROOT, "out of memory (%s; the JVM may use %s):"
                + " give it more heap with JAVA_OPTS=-Xmx16g ./shears ..., or use smaller batches (--batch of eval, sensitivity and bench,"
                + " a recipe's batchSize for train and prune)", msg, heapSize(Runtime.getRuntime().maxMemory()));
        Throwable c = ex.getCause();
        // the cause only where it adds something: a parser's message is often already in ours, reformatted
        // (a YAML error printed its 5-line excerpt twice)
        if (c != null && c.getMessage() != null && !msg.contains(c.getMessage()) && !msg.contains(firstLine(c.getMessage())))
            msg += " (cause: " + c.getMessage() + ")";
        return msg;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }

    /** Version from the jar manifest, or "dev" when run from classes. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            return new String[]{"shears " + version(), "Java " + Runtime.version()};
        }
    }

    public static String version() {
        String v = Shears.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-dev";
    }
}
