package dev.shears.cli;

import dev.shears.cli.report.ClassLabels;
import dev.shears.cli.report.RunReport;
import dev.shears.core.nn.ClassCounts;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The run report's accuracy per class before and after (which classes pruning hurt), from the
 * per-class counts of the run's own test passes ({@link dev.shears.core.nn.ClassTally}, as
 * {@code eval} counts them: rows made by {@link ClassAccuracy#rows}), and the summary's line
 * naming the classes that lost most.
 */
final class ClassChange {
    private ClassChange() {}

    /**
     * A class is named on the summary's "most hurt" line when it lost more than this many percentage points. 1 point is
     * the budget {@code sensitivity --max-drop} suggests sparsities within by default: the loss a user has already been
     * told is worth a look; anything smaller is within what a second training run with another seed moves a class by.
     */
    static final double HURT_POINTS = 1.0;
    /**
     * ... and when it lost at least this many test samples: on a small test set (30 images of a class) one image is
     * 3.3 points, and one image going either way is not a finding.
     */
    static final long HURT_SAMPLES = 2;
    /** Most classes the line names (the report lists them all). */
    static final int NAMED = 3;

    /**
     * One row per class that holds test samples in either pass, by index: its figures before (null without
     * {@code before}) and after (null without {@code after}), named from {@code names} (the model's; empty for none).
     */
    static List<RunReport.ClassRow> rows(ClassCounts before, ClassCounts after, List<String> names) {
        Map<Integer, RunReport.ClassFigures> b = figures(before, names), a = figures(after, names);
        TreeSet<Integer> indices = new TreeSet<>(b.keySet());
        indices.addAll(a.keySet());
        List<RunReport.ClassRow> rows = new ArrayList<>();
        for (int c : indices) {
            RunReport.ClassFigures fb = b.get(c), fa = a.get(c);
            rows.add(new RunReport.ClassRow(c, ClassAccuracy.name(names, c), fb, fa,
                    fb == null || fa == null ? Double.NaN : fa.accuracy() - fb.accuracy()));
        }
        return rows;
    }

    private static Map<Integer, RunReport.ClassFigures> figures(ClassCounts counts, List<String> names) {
        Map<Integer, RunReport.ClassFigures> m = new TreeMap<>();
        if (counts != null)
            for (ClassAccuracy.Row r : ClassAccuracy.rows(counts, names))
                m.put(r.index(), new RunReport.ClassFigures(r.correct(), r.total(), r.accuracy()));
        return m;
    }

    /**
     * Why the report's per-class figures lack a side, or null when they have what the run measured.
     *
     * @param wantBefore whether the report has a "before" (not for plain training, whose start is random weights)
     * @param stopped    the run's stop reason (a failed run), or null
     * @param lastEpoch  the last epoch the history holds
     * @param epochs     the recipe's epochs
     */
    static String note(ClassCounts before, ClassCounts after, boolean wantBefore, String stopped, int lastEpoch, int epochs) {
        List<String> why = new ArrayList<>();
        if (wantBefore && before == null)
            why.add("accuracy per class before the run is not in the checkpoint this run resumed from (written by a Shears"
                    + " that did not keep it): shears eval --model START --data DATA on the model the run started from gives it");
        if (after == null) {
            if (stopped != null || lastEpoch < epochs)
                why.add("the run ended at epoch " + lastEpoch + " of " + epochs + ", before the last epoch's test pass, which counts the"
                        + " classes: shears eval --model MODEL --data DATA on the saved model gives them");
            else
                why.add("accuracy per class after the run is not in the checkpoint this run resumed from (written by a Shears"
                        + " that did not keep it): shears eval --model MODEL --data DATA on the saved model gives it");
        }
        return why.isEmpty() ? null : String.join("; ", why);
    }

    /**
     * The summary's line naming the classes that lost most ("most hurt: Shirt -3.10 pts (84 -> 81 of 100), ..."), at most
     * {@link #NAMED}, worst first; null when no class lost more than {@link #HURT_POINTS} points and
     * {@link #HURT_SAMPLES} samples (or the rows lack a side).
     */
    static String mostHurtLine(List<RunReport.ClassRow> rows) {
        List<RunReport.ClassRow> hurt = rows.stream().filter(ClassChange::hurt)
                .sorted(Comparator.comparingDouble(RunReport.ClassRow::change).thenComparingInt(RunReport.ClassRow::index)).toList();
        if (hurt.isEmpty()) return null;
        List<String> parts = new ArrayList<>();
        for (RunReport.ClassRow r : hurt.subList(0, Math.min(NAMED, hurt.size())))
            parts.add(String.format(Locale.ROOT, "%s %+.1f pts (%d -> %d of %d)", label(r), 100 * r.change(), r.before().correct(), r.after().correct(),
                    r.after().total()));
        String more = hurt.size() > NAMED ? String.format(Locale.ROOT, "; %d more lost over %.0f point", hurt.size() - NAMED, HURT_POINTS) : "";
        return "most hurt: " + String.join(", ", parts) + more + " (report.html: every class)";
    }

    /** Whether a class lost enough to name: more than {@link #HURT_POINTS} points and at least {@link #HURT_SAMPLES} samples. */
    static boolean hurt(RunReport.ClassRow r) {
        return r.before() != null && r.after() != null && -100 * r.change() > HURT_POINTS
                && r.before().correct() - r.after().correct() >= HURT_SAMPLES;
    }

    /** The class's name, or "class 3" where the model has none. */
    static String label(RunReport.ClassRow r) { return ClassLabels.label(r.index(), r.name()); }
}
