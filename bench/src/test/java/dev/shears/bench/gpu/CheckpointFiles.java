package dev.shears.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A stage's real sink ({@link Checkpoint#file}) with a check after every write: the file on disk
 * then is valid JSON holding every row so far and {@code "partial": true}, and the earlier rows
 * are unchanged; once the stage has {@link #finished} the last file lacks {@code partial} and holds
 * the same rows as the last checkpoint. Nothing is killed: the file read after each write is what
 * a stage stopped there would leave.
 */
final class CheckpointFiles implements Consumer<String> {
    private static final ObjectMapper M = new ObjectMapper();

    private final Path out;
    private final Consumer<String> sink;
    /** Every document read back from disk, in the order written. */
    final List<JsonNode> written = new ArrayList<>();

    CheckpointFiles(Path out) {
        this.out = out;
        this.sink = Checkpoint.file(out);
    }

    @Override
    public void accept(String json) {
        if (!written.isEmpty()) assertTrue(written.getLast().has(Checkpoint.PARTIAL), "nothing is written after the final document");
        sink.accept(json);
        JsonNode doc;
        try {
            doc = M.readTree(Files.readString(out));
        } catch (IOException e) {
            throw new UncheckedIOException(out + " is not valid JSON after write " + (written.size() + 1), e);
        }
        JsonNode rows = doc.get("results");
        assertNotNull(rows, "no results in " + doc);
        if (doc.has(Checkpoint.PARTIAL)) {
            assertTrue(doc.get(Checkpoint.PARTIAL).asBoolean(), doc.toString());
            assertEquals(written.size() + 1, rows.size(), "checkpoint " + (written.size() + 1) + " holds the rows so far: " + doc);
        } else {
            assertFalse(written.isEmpty(), "a final document before any checkpoint: " + doc);
            assertEquals(written.size(), rows.size(), "the final document holds the last checkpoint's rows: " + doc);
        }
        if (!written.isEmpty())
            for (int i = 0; i < written.getLast().get("results").size(); i++)
                assertEquals(written.getLast().get("results").get(i), rows.get(i), "row " + i + " changed between two writes");
        written.add(doc);
    }

    /** Asserts that the stage finished: its last write was the final document, after one checkpoint a row. */
    void finished(int rows) {
        assertEquals(rows + 1, written.size(), "a checkpoint a row, then the final document");
        assertFalse(written.getLast().has(Checkpoint.PARTIAL), written.getLast().toString());
        try (var files = Files.list(out.getParent())) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList(), "no temporary file is left");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
