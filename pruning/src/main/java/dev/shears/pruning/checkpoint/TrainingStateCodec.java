package dev.shears.pruning.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.nn.ClassCounts;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.util.StrictJson;
import dev.shears.pruning.LayerSparsity;
import dev.shears.pruning.MaskUpdate;
import dev.shears.pruning.recipe.NmStructure;
import dev.shears.pruning.recipe.Structure;
import dev.shears.pruning.recipe.Scope;
import dev.shears.pruning.train.EpochMetrics;
import dev.shears.pruning.train.PruningEvent;
import dev.shears.pruning.train.TrainingState;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * A {@link TrainingState} as the checkpoint's {@code training.json} (position, optimizer index,
 * labels, history) and {@code optimizer.bin} (the optimizer's state tensors as little-endian
 * float32, in the index's order). Doubles are written as JSON numbers, which Jackson writes in
 * the shortest form that parses back to the same double, so the history survives bit for bit;
 * NaN and the infinities (epoch 0 has no training loss) are written as the strings
 * {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}.
 */
final class TrainingStateCodec {
    private TrainingStateCodec() {}

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    static ObjectNode toJson(TrainingState s) {
        ObjectNode o = F.objectNode();
        o.put("epoch", s.epoch()).put("epochs", s.epochs()).put("step", s.step()).put("stepsPerEpoch", s.stepsPerEpoch())
                .put("seed", s.seed()).put("complete", s.complete());
        ObjectNode opt = o.putObject("optimizer");
        opt.put("describe", s.optimizer()).put("steps", s.optimizerSteps());
        ArrayNode tensors = opt.putArray("state");
        s.optimizerState().forEach((name, v) -> tensors.addObject().put("name", name).put("size", v.length));
        ObjectNode labels = o.putObject("labels");
        s.labels().forEach(labels::put);
        ObjectNode h = o.putObject("history");
        ArrayNode epochs = h.putArray("epochs");
        for (EpochMetrics m : s.history().epochs()) {
            ObjectNode e = epochs.addObject().put("epoch", m.epoch());
            num(e, "lr", m.lr());
            num(e, "trainLoss", m.trainLoss());
            num(e, "trainAccuracy", m.trainAccuracy());
            num(e, "testLoss", m.testLoss());
            num(e, "testAccuracy", m.testAccuracy());
            num(e, "targetSparsity", m.targetSparsity());
            num(e, "sparsity", m.sparsity());
            ObjectNode layers = e.putObject("layerSparsity");
            m.layerSparsity().forEach((k, v) -> num(layers, k, v));
            num(e, "seconds", m.seconds());
            if (!Double.isNaN(m.distillationLoss())) num(e, "distillationLoss", m.distillationLoss()); // absent: no distillation
        }
        ArrayNode pruning = h.putArray("pruning");
        for (PruningEvent ev : s.history().pruning()) {
            ObjectNode p = pruning.addObject().put("modifier", ev.modifier()).put("step", ev.step());
            num(p, "epoch", ev.epoch());
            p.put("final", ev.isFinal());
            MaskUpdate u = ev.update();
            ObjectNode uo = p.putObject("update");
            num(uo, "target", u.target());
            uo.put("scope", u.scope().name());
            if (u.structure() != null) uo.put("structure", u.structure().recipeName());
            if (u.structure() instanceof NmStructure) uo.put("keepPerGroup", u.keepPerGroup());
            ArrayNode ls = uo.putArray("layers");
            for (LayerSparsity l : u.layers()) ls.addObject().put("name", l.name()).put("size", l.size()).put("pruned", l.pruned());
        }
        Evaluator.Result b = s.history().beforePruning();
        if (b != null) {
            ObjectNode bo = h.putObject("beforePruning");
            num(bo, "loss", b.loss());
            num(bo, "accuracy", b.accuracy());
            bo.put("samples", b.samples());
        }
        // right answers per class of the test passes before training and after the last epoch (absent in older files)
        ClassCounts first = s.history().initialPerClass(), last = s.history().finalPerClass();
        if (first != null || last != null) {
            ObjectNode pc = h.putObject("perClass");
            if (first != null) counts(pc.putObject("initial"), first);
            if (last != null) counts(pc.putObject("final"), last);
        }
        return o;
    }

    /** The optimizer's state tensors, concatenated in index order. */
    static byte[] optimizerBytes(TrainingState s) {
        long n = 0;
        for (float[] v : s.optimizerState().values()) n += v.length;
        if (4 * n > Integer.MAX_VALUE - 16)
            throw new CheckpointException("optimizer state of " + n + " floats is too large for one checkpoint entry (2 GB)");
        ByteBuffer bb = ByteBuffer.allocate((int) (4 * n)).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] v : s.optimizerState().values()) {
            bb.asFloatBuffer().put(v); // a view starting at the current position
            bb.position(bb.position() + 4 * v.length);
        }
        return bb.array();
    }

    static TrainingState fromJson(JsonNode o, byte[] optimizerBin, String file) {
        try {
            JsonNode opt = req(o, "optimizer");
            ByteBuffer bin = ByteBuffer.wrap(optimizerBin == null ? new byte[0] : optimizerBin).order(ByteOrder.LITTLE_ENDIAN);
            SequencedMap<String, float[]> state = new LinkedHashMap<>();
            int at = 0;
            for (JsonNode t : req(opt, "state")) {
                String sp = "optimizer.state[" + at++ + "]";
                String name = StrictJson.textField(t, sp, "name");
                int size = StrictJson.intField(t, sp, "size");
                if (size < 0) throw new CheckpointException(file + ": training.json gives optimizer state " + name + " a negative size " + size);
                if (bin.remaining() < 4L * size) throw new CheckpointException(file + ": optimizer.bin is truncated at " + name);
                float[] v = new float[size];
                bin.asFloatBuffer().get(v);
                bin.position(bin.position() + 4 * size);
                state.put(name, v);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            o.path("labels").properties().forEach(e -> labels.put(e.getKey(), StrictJson.toText(e.getValue(), "labels." + e.getKey())));
            JsonNode h = req(o, "history");
            List<EpochMetrics> epochs = new ArrayList<>();
            at = 0;
            for (JsonNode e : req(h, "epochs")) {
                String path = "history.epochs[" + at++ + "]";
                Map<String, Double> layers = new LinkedHashMap<>();
                req(e, "layerSparsity").properties().forEach(p -> layers.put(p.getKey(), dbl(p.getValue(), path + ".layerSparsity." + p.getKey())));
                epochs.add(new EpochMetrics(StrictJson.intField(e, path, "epoch"), d(e, path, "lr"), d(e, path, "trainLoss"), d(e, path, "trainAccuracy"),
                        d(e, path, "testLoss"), d(e, path, "testAccuracy"), d(e, path, "targetSparsity"), d(e, path, "sparsity"), layers, d(e, path, "seconds"),
                        e.has("distillationLoss") ? d(e, path, "distillationLoss") : Double.NaN));
            }
            List<PruningEvent> pruning = new ArrayList<>();
            at = 0;
            for (JsonNode p : req(h, "pruning")) {
                String path = "history.pruning[" + at++ + "]";
                JsonNode u = req(p, "update");
                List<LayerSparsity> ls = new ArrayList<>();
                int li = 0;
                for (JsonNode l : req(u, "layers")) {
                    String lp = path + ".update.layers[" + li++ + "]";
                    ls.add(new LayerSparsity(StrictJson.textField(l, lp, "name"), StrictJson.longField(l, lp, "size"), StrictJson.longField(l, lp, "pruned")));
                }
                String up = path + ".update";
                String structure = StrictJson.textFieldOr(u, up, "structure", null);
                Structure st = structure == null ? null : Structure.parse(structure);
                MaskUpdate mu = new MaskUpdate(d(u, up, "target"), Scope.valueOf(StrictJson.textField(u, up, "scope")), st,
                        st instanceof NmStructure ? StrictJson.intField(u, up, "keepPerGroup") : 0, ls);
                pruning.add(new PruningEvent(StrictJson.intField(p, path, "modifier"), StrictJson.longField(p, path, "step"), d(p, path, "epoch"), mu,
                        StrictJson.booleanField(p, path, "final")));
            }
            if (bin.hasRemaining())
                throw new CheckpointException(file + ": optimizer.bin holds " + bin.remaining() + " bytes more than training.json describes");
            JsonNode b = h.get("beforePruning");
            Evaluator.Result before = b == null || b.isNull() ? null : new Evaluator.Result(d(b, "history.beforePruning", "loss"), d(b, "history.beforePruning", "accuracy"),
                    StrictJson.intField(b, "history.beforePruning", "samples"));
            JsonNode pc = h.path("perClass");
            ClassCounts initialPerClass = counts(pc.get("initial"), "history.perClass.initial");
            ClassCounts finalPerClass = counts(pc.get("final"), "history.perClass.final");
            return new TrainingState(StrictJson.intField(o, "", "epoch"), StrictJson.intField(o, "", "epochs"), StrictJson.intField(o, "", "stepsPerEpoch"),
                    StrictJson.longField(o, "", "seed"), StrictJson.textField(opt, "optimizer", "describe"), StrictJson.longField(opt, "optimizer", "steps"), state, new TrainingState.History(epochs, pruning, before, initialPerClass, finalPerClass),
                    StrictJson.booleanField(o, "", "complete"), labels);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": training.json is malformed (" + e.getMessage() + ")", e);
        }
    }

    /** Per class index c: {@code correct[c]} and {@code total[c]}, as two arrays of whole numbers. */
    private static void counts(ObjectNode o, ClassCounts c) {
        ArrayNode correct = o.putArray("correct"), total = o.putArray("total");
        for (long v : c.correct()) correct.add(v);
        for (long v : c.total()) total.add(v);
    }

    /** What {@link #counts(ObjectNode, ClassCounts)} wrote, or null where {@code o} is absent (a file written before Shears kept it). */
    private static ClassCounts counts(JsonNode o, String path) {
        if (o == null || o.isNull()) return null;
        long[] correct = longs(req(o, "correct"), path + ".correct"), total = longs(req(o, "total"), path + ".total");
        return new ClassCounts(correct, total); // checks the lengths agree and 0 <= correct <= total, naming the class
    }

    private static long[] longs(JsonNode a, String path) {
        if (!a.isArray()) throw new StrictJson.BadField(path, a, "an array of whole numbers");
        long[] v = new long[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = StrictJson.toLong(a.get(i), path + "[" + i + "]");
        return v;
    }

    private static void num(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.put(key, Double.toString(v)); // "NaN", "Infinity", "-Infinity": Double.parseDouble reads them back
    }

    private static double d(JsonNode o, String path, String key) { return dbl(o.get(key), StrictJson.join(path, key)); }

    /**
     * A metric as {@link #num} writes it: a JSON number, or exactly "NaN", "Infinity" or "-Infinity" (JSON has
     * no literal for them). Other text is a damaged file (Double.parseDouble also took " 5", "5d" and "0x1p3").
     */
    private static double dbl(JsonNode v, String path) {
        if (v != null && v.isTextual()) {
            switch (v.textValue()) {
                case "NaN": return Double.NaN;
                case "Infinity": return Double.POSITIVE_INFINITY;
                case "-Infinity": return Double.NEGATIVE_INFINITY;
                default: throw new StrictJson.BadField(path, v, "a number (or \"NaN\", \"Infinity\", \"-Infinity\")");
            }
        }
        return StrictJson.toDouble(v, path);
    }

    private static JsonNode req(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null || v.isNull()) throw new IllegalArgumentException("field '" + key + "' is missing");
        return v;
    }
}
