package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Per-class tallies from batches of logits, in sample order, and how eval prints them. */
class ClassAccuracyTest {
    @Test
    void talliesEachBatchAgainstTheLabelsInOrder() {
        // 5 samples in batches of 3 and 2, 4 outputs; labels 0, 2, 2, 3, 0; nothing of class 1
        int[] labels = {0, 2, 2, 3, 0};
        ClassAccuracy a = new ClassAccuracy(labels);
        try (CpuBackend be = CpuBackend.create()) {
            a.batch(be, be.upload(new float[] {
                    5, 1, 0, 0,    // 0: right
                    0, 0, 3, 1,    // 2: right
                    0, 4, 3, 0}, Shape.of(3, 4)), 3); // 2: wrong (1)
            a.batch(be, be.upload(new float[] {
                    0, 0, 0, 2,    // 3: right
                    1, 1, 0, 0}, Shape.of(2, 4)), 2); // 0: equal highest logits 0 and 1: the first, right
        }
        List<ClassAccuracy.Row> rows = a.rows(List.of("cat", "dog", "eel", "fox"));
        assertEquals(List.of(new ClassAccuracy.Row(0, "cat", 2, 2), new ClassAccuracy.Row(2, "eel", 1, 2), new ClassAccuracy.Row(3, "fox", 1, 1)), rows,
                "classes without samples are left out");
        assertEquals(0.5, rows.get(1).accuracy());
        assertEquals(List.of("per class (correct/total, accuracy):", "  cat  2/2  100.00%", "  eel  1/2   50.00%", "  fox  1/1  100.00%"),
                ClassAccuracy.lines(rows));
        // a model without class names: indices
        assertEquals("  class 2  1/2   50.00%", ClassAccuracy.lines(a.rows(List.of())).get(2));
        JsonNode j = ClassAccuracy.json(rows);
        assertEquals(3, j.size());
        assertEquals("{\"index\":2,\"name\":\"eel\",\"correct\":1,\"total\":2,\"accuracy\":0.5}", j.get(1).toString());
        assertFalse(ClassAccuracy.json(a.rows(List.of())).get(0).has("name"));
    }

    @Test
    void manyClassesShowTheLeastAccurateInText() {
        List<ClassAccuracy.Row> rows = new ArrayList<>();
        for (int c = 0; c < 100; c++) rows.add(new ClassAccuracy.Row(c, null, c == 42 ? 1 : 9, 10));
        List<String> lines = ClassAccuracy.lines(rows);
        assertEquals("per class: the 10 least accurate of 100 (--json lists every class):", lines.getFirst());
        assertEquals(11, lines.size());
        assertTrue(lines.get(1).startsWith("  class 42 "), lines.get(1));
    }
}
