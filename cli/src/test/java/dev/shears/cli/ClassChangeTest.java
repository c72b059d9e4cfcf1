package dev.shears.cli;

import dev.shears.cli.report.RunReport;
import dev.shears.core.nn.ClassCounts;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The run report's per-class rows from the two passes' counts, the summary's most-hurt line and its threshold, the notes. */
class ClassChangeTest {
    /** 4 classes of 100 test images (class 2 has none before: a class seen only as a prediction is left out of totals). */
    private static final ClassCounts BEFORE = new ClassCounts(new long[]{90, 80, 0, 70}, new long[]{100, 100, 0, 100});

    @Test
    void rowsPairTheTwoPassesByClassWithTheirChange() {
        ClassCounts after = new ClassCounts(new long[]{85, 80, 0, 72}, new long[]{100, 100, 0, 100});
        List<RunReport.ClassRow> rows = ClassChange.rows(BEFORE, after, List.of("cat", "dog"));
        assertEquals(3, rows.size(), "classes without samples are left out: " + rows);
        assertEquals(new RunReport.ClassRow(0, "cat", new RunReport.ClassFigures(90, 100, 0.9), new RunReport.ClassFigures(85, 100, 0.85), 0.85 - 0.9),
                rows.get(0));
        assertNull(rows.get(2).name(), "no name past the model's names");
        assertEquals(3, rows.get(2).index());
        // one side missing: its figures and the change are absent
        RunReport.ClassRow onlyAfter = ClassChange.rows(null, after, List.of()).getFirst();
        assertNull(onlyAfter.before());
        assertTrue(Double.isNaN(onlyAfter.change()));
    }

    @Test
    void mostHurtNamesClassesThatLostMoreThanAPointAndTwoImagesWorstFirst() {
        // class 0: -5 points (5 images), class 1: -1 point (not more than 1), class 3: +2
        ClassCounts after = new ClassCounts(new long[]{85, 79, 0, 72}, new long[]{100, 100, 0, 100});
        assertEquals("most hurt: cat -5.0 pts (90 -> 85 of 100) (report.html: every class)",
                ClassChange.mostHurtLine(ClassChange.rows(BEFORE, after, List.of("cat", "dog"))));
        // one image of 30 is 3.3 points, but a single image is not a finding
        ClassCounts small = new ClassCounts(new long[]{20}, new long[]{30});
        assertNull(ClassChange.mostHurtLine(ClassChange.rows(small, new ClassCounts(new long[]{19}, new long[]{30}), List.of())));
        assertEquals("most hurt: class 0 -6.7 pts (20 -> 18 of 30) (report.html: every class)",
                ClassChange.mostHurtLine(ClassChange.rows(small, new ClassCounts(new long[]{18}, new long[]{30}), List.of())));
        // no loss over the threshold, or no "before": no line
        assertNull(ClassChange.mostHurtLine(ClassChange.rows(BEFORE, BEFORE, List.of())));
        assertNull(ClassChange.mostHurtLine(ClassChange.rows(null, after, List.of())));
        // past 3 classes: the worst 3 named, how many more said
        ClassCounts five = new ClassCounts(new long[]{90, 90, 90, 90, 90}, new long[]{100, 100, 100, 100, 100});
        String line = ClassChange.mostHurtLine(ClassChange.rows(five, new ClassCounts(new long[]{88, 80, 85, 70, 87}, five.total()), List.of()));
        assertEquals("most hurt: class 3 -20.0 pts (90 -> 70 of 100), class 1 -10.0 pts (90 -> 80 of 100), class 2 -5.0 pts (90 -> 85 of 100);"
                + " 2 more lost over 1 point (report.html: every class)", line);
    }

    @Test
    void theNoteSaysWhichSideIsMissingAndWhy() {
        assertNull(ClassChange.note(BEFORE, BEFORE, true, null, 3, 3));
        assertNull(ClassChange.note(null, BEFORE, false, null, 3, 3), "plain training has no before to miss");
        assertTrue(ClassChange.note(null, BEFORE, true, null, 3, 3).startsWith("accuracy per class before the run is not in the checkpoint"));
        String failed = ClassChange.note(BEFORE, null, true, "the training loss is NaN", 1, 3);
        assertTrue(failed.startsWith("the run ended at epoch 1 of 3, before the last epoch's test pass"), failed);
    }
}
