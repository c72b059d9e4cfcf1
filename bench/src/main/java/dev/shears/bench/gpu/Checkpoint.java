package dev.shears.bench.gpu;

import dev.shears.cli.report.BenchJson;
import dev.shears.core.util.AtomicFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A GPU benchmark stage's rows and its output, the one way the three stages (GpuBench, TrainBench,
 * SparseGpuBench) write their JSON: {@code run-gpu.sh} stops a stage at its time limit, and a stage
 * that wrote its JSON only at the end lost every figure it had measured. So every {@link #add row}
 * hands the whole document so far, marked {@code "partial": true}, to the stage's sink, and
 * {@link #finish} hands it the final document, without {@code partial}; {@code compare.py} says
 * which figures are incomplete. The sink of a real run is {@link #file}: each write replaces the
 * output atomically ({@link AtomicFiles}: a temporary file beside it, then one rename; a SIGTERM
 * from {@code timeout} mid-write deletes the temporary file), so a stage killed mid-write leaves
 * the previous checkpoint, never half a file.
 */
final class Checkpoint {
    /** The field a checkpoint document carries (true) and the final one lacks. */
    static final String PARTIAL = "partial";

    /** The stage's document around a list of rows: its header fields and {@code "results"}. */
    private final Function<List<Map<String, Object>>, Map<String, Object>> document;
    private final List<Map<String, Object>> rows = new ArrayList<>();
    /** Receives every document written; nothing until the stage's main or a test sets one. */
    private Consumer<String> sink = json -> {};

    /**
     * @param document builds the stage's document (a new, mutable map; the header's figures as they
     *                 are now) around the rows so far; {@code partial} is added after its fields
     */
    Checkpoint(Function<List<Map<String, Object>>, Map<String, Object>> document) {
        this.document = document;
    }

    /** Where every document goes from now on: {@link #file} in a stage's main, a list in tests. */
    Checkpoint sendTo(Consumer<String> sink) {
        this.sink = sink;
        return this;
    }

    /** Adds a row and hands the document so far, marked partial, to the sink. */
    void add(Map<String, Object> row) {
        rows.add(row);
        Map<String, Object> doc = document.apply(rows);
        doc.put(PARTIAL, true);
        sink.accept(BenchJson.write(doc));
    }

    /** The rows so far, in the order added (read-only). */
    List<Map<String, Object>> rows() {
        return Collections.unmodifiableList(rows);
    }

    /** The final document, without {@code partial}: handed to the sink (replacing the last checkpoint) and returned. */
    String finish() {
        String json = BenchJson.write(document.apply(rows));
        sink.accept(json);
        return json;
    }

    /** A sink writing each document to {@code out} atomically, for the stages' {@code main}. */
    static Consumer<String> file(Path out) {
        return json -> AtomicFiles.writeString(out, json);
    }
}
