package dev.shears.bench.gpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointTest {

    /** A stage's document: a header field that changes as the stage goes (as GpuBench's copy bandwidth does) and the rows. */
    private static Map<String, Object> document(String device, List<Map<String, Object>> rows) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("device", device);
        doc.put("results", rows);
        return doc;
    }

    @Test
    void afterEveryRowTheFileHoldsTheRowsSoFarMarkedPartialAndAtTheEndUnmarked(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("stage.json");
        String[] device = {"?"};
        CheckpointFiles disk = new CheckpointFiles(out);
        Checkpoint c = new Checkpoint(rows -> document(device[0], rows)).sendTo(disk);
        assertFalse(Files.exists(out), "nothing is written before the first row");
        for (int i = 0; i < 3; i++) {
            device[0] = "gpu" + i;
            c.add(Map.of("op", "x", "i", i));
            assertEquals("gpu" + i, disk.written.getLast().get("device").asText(), "the header as it is at each row");
        }
        assertEquals(3, c.rows().size());
        String json = c.finish();
        disk.finished(3);
        assertEquals(json, Files.readString(out), "finish returns what it wrote");
    }

    @Test
    void partialComesAfterTheDocumentsFieldsAndTheFinalDocumentLacksIt() {
        List<String> sent = new ArrayList<>();
        Checkpoint c = new Checkpoint(rows -> document("d", rows)).sendTo(sent::add);
        c.add(Map.of("op", "x"));
        c.finish();
        assertEquals(List.of("{\n  \"device\": \"d\",\n  \"results\": [\n    {\"op\": \"x\"}\n  ],\n  \"partial\": true\n}\n",
                "{\n  \"device\": \"d\",\n  \"results\": [\n    {\"op\": \"x\"}\n  ]\n}\n"), sent);
    }

    @Test
    void aStageWithoutASinkStillReturnsItsDocument() {
        Checkpoint c = new Checkpoint(rows -> document("d", rows));
        c.add(Map.of("op", "x"));
        assertTrue(c.finish().contains("\"op\": \"x\""));
        assertThrows(UnsupportedOperationException.class, () -> c.rows().clear(), "the rows are the stage's own");
    }

    @Test
    void anUnwritableOutputNamesTheFile(@TempDir Path dir) throws Exception {
        Path blocker = Files.writeString(dir.resolve("a-file"), "");
        Path out = blocker.resolve("stage.json");
        Checkpoint c = new Checkpoint(rows -> document("d", rows)).sendTo(Checkpoint.file(out));
        RuntimeException e = assertThrows(RuntimeException.class, () -> c.add(Map.of("op", "x")));
        assertTrue(e.getMessage().contains(out.toString()), e.getMessage());
    }
}
