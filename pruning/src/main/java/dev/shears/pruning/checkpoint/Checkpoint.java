package dev.shears.pruning.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Layer;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.core.util.AtomicFiles;
import dev.shears.core.util.StrictJson;
import dev.shears.pruning.train.TrainingState;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Shears' own model file ({@code .shears}): a zip holding
 * {@code model.json} (format, version, inputs, output, layers with their configuration, and the
 * parameter index), {@code weights.bin} (every parameter as little-endian float32, in index
 * order), {@code masks.bin} (the UINT8 masks of pruned parameters, in index order),
 * {@code recipe.yaml} (the recipe the run used, if any), {@code metrics.json} (the run's
 * report, if any) and, from version 2, {@code training.json} and {@code optimizer.bin}: the
 * state a run needs to continue exactly ({@link TrainingState}: where it is, the optimizer's
 * step count and state tensors, the history so far, whether it finished), see
 * {@link TrainingStateCodec}. Version 1 files (no training state) still load; a version 2 file
 * loads in a Shears that knows only version 1 as a model too, as long as it ignores the new
 * entries (it refuses it by version: that is the honest answer).
 *
 * <p>{@code model.json} of a version 2 file also says {@code "partial": true} while the run that
 * writes it is under way (it saves after every epoch), so a reader can tell a finished model
 * from an intermediate one without parsing {@code training.json}.
 *
 * <p>{@code model.json} may hold {@code "classNames": ["Ankle boot", "Bag", ...]}, what each output
 * means ({@link Model#classNames}: the sorted class folder names of the image-folder data set the
 * model was trained on, or the built-in Fashion-MNIST's names). It is optional and written only when the model has names; files without it
 * read as models without names, and a Shears that predates it ignores it (it reads fields by name),
 * so the version stays 2.
 *
 * @param recipeYaml the recipe text, or null
 * @param metrics    the run's metrics/report object, or null
 * @param training   the run's state for {@code --resume}, or null (version 1 files, models not
 *                   written by a run)
 */
public record Checkpoint(Model model, String recipeYaml, JsonNode metrics, TrainingState training) {

    public static final String FORMAT = "shears-checkpoint";
    /** 1: model, weights, masks, recipe, metrics. 2: adds training.json and optimizer.bin (resuming). */
    public static final int VERSION = 2;

    /** A checkpoint without training state. */
    public Checkpoint(Model model, String recipeYaml, JsonNode metrics) { this(model, recipeYaml, metrics, null); }

    /** Whether this is an intermediate state of a run that has not finished. */
    public boolean partial() { return training != null && !training.complete(); }
    public static final String EXTENSION = ".shears";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes the checkpoint atomically; refuses to write over any of {@code inputs}. */
    public void write(Path file, Path... inputs) {
        Backend be = model.backend();
        if (be == null) throw new IllegalStateException("cannot save an unbound model");
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT).put("version", VERSION);
        if (partial()) root.put("partial", true);
        ArrayNode ins = root.putArray("inputs");
        for (Model.Input in : model.inputs()) ins.addObject().put("name", in.name()).set("shape", LayerCodec.ints(in.shape().dims()));
        root.put("output", model.outputName());
        if (!model.classNames().isEmpty()) model.classNames().forEach(root.putArray("classNames")::add);
        ArrayNode layers = root.putArray("layers");
        for (Model.Node n : model.nodes()) {
            ObjectNode l = layers.addObject();
            l.put("name", n.name()).put("type", n.layer().type());
            ArrayNode src = l.putArray("inputs");
            n.inputs().forEach(src::add);
            l.set("config", LayerCodec.config(n.layer()));
        }
        ArrayNode params = root.putArray("parameters");
        List<float[]> values = new ArrayList<>();
        List<byte[]> masks = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            ObjectNode o = params.addObject();
            o.put("name", p.name()).put("role", p.role().name()).set("shape", LayerCodec.ints(p.shape().dims()));
            o.put("masked", p.mask() != null);
            values.add(be.download(p.value()));
            if (p.mask() != null) masks.add(be.downloadBytes(p.mask()));
        }
        AtomicFiles.write(file, out -> {
            ZipOutputStream zip = new ZipOutputStream(out);
            // A partial checkpoint is rewritten after every epoch: stored, not deflated (LeNet-300-100 with momentum, 2.4 MB:
            // 6-10 ms a save instead of 45-135 ms on two cores; measured). The finished model is deflated: pruned zeros shrink.
            zip.setLevel(partial() ? java.util.zip.Deflater.NO_COMPRESSION : java.util.zip.Deflater.DEFAULT_COMPRESSION);
            zip.putNextEntry(new ZipEntry("model.json"));
            zip.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("weights.bin"));
            for (float[] v : values) {
                ByteBuffer bb = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                bb.asFloatBuffer().put(v);
                zip.write(bb.array());
            }
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("masks.bin"));
            for (byte[] m : masks) zip.write(m);
            zip.closeEntry();
            if (recipeYaml != null) {
                zip.putNextEntry(new ZipEntry("recipe.yaml"));
                zip.write(recipeYaml.getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
            if (metrics != null) {
                zip.putNextEntry(new ZipEntry("metrics.json"));
                zip.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(metrics));
                zip.closeEntry();
            }
            if (training != null) {
                zip.putNextEntry(new ZipEntry("training.json"));
                zip.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(TrainingStateCodec.toJson(training)));
                zip.closeEntry();
                zip.putNextEntry(new ZipEntry("optimizer.bin"));
                zip.write(TrainingStateCodec.optimizerBytes(training));
                zip.closeEntry();
            }
            zip.finish();
        }, inputs);
    }

    /** Reads a checkpoint and binds its model to {@code backend}. */
    /**
     * Whether {@code file} is the checkpoint of a run still going or killed (its model.json says
     * partial), read without loading the weights; false for a finished run or anything that is not
     * a readable checkpoint (the caller's own read reports those).
     */
    public static boolean isPartial(Path file) {
        if (!Files.isRegularFile(file)) return false;
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(file.toFile())) {
            ZipEntry e = zip.getEntry("model.json");
            if (e == null) return false;
            try (InputStream in = zip.getInputStream(e)) {
                // strict: "partial": "yes" is a damaged file (read() refuses it), not a finished run
                return StrictJson.booleanFieldOr(JSON.readTree(in), "", "partial", false);
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * One entry of the checkpoint {@code file} ({@code recipe.yaml}, {@code training.json}, ...),
     * or null when it has none (see {@link #readEntries}).
     *
     * @throws CheckpointException when the file is not a readable zip
     */
    public static byte[] readEntry(Path file, String name) {
        return readEntries(file, name).get(name);
    }

    /**
     * The named entries of the checkpoint {@code file} by name (a name it lacks is absent), in
     * one pass that stops once all are found: for checks that should come before the data loads.
     * Entries before them (the weights come before the recipe and training state) are
     * decompressed on the way but not kept.
     *
     * @throws CheckpointException when the file is not a readable zip
     */
    public static Map<String, byte[]> readEntries(Path file, String... names) {
        return entries(file, Set.of(names));
    }

    /**
     * The entries of the checkpoint {@code file} by name: every one ({@code only} null), or just
     * those named in {@code only} (the scan stops once all are found).
     *
     * @throws CheckpointException when the file is not a readable zip
     */
    private static Map<String, byte[]> entries(Path file, Set<String> only) {
        Map<String, byte[]> entries = new HashMap<>();
        try (InputStream raw = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(new java.io.BufferedInputStream(raw))) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                if (only == null || only.contains(e.getName())) entries.put(e.getName(), zip.readAllBytes());
                if (only != null && entries.size() == only.size()) break;
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(file + ": not a readable Shears checkpoint (" + e.getMessage() + "); was it truncated?", e);
        }
        return entries;
    }

    public static Checkpoint read(Path file, Backend backend) {
        Map<String, byte[]> entries = entries(file, null);
        byte[] modelJson = entries.get("model.json");
        if (modelJson == null) throw new CheckpointException(file + ": not a Shears checkpoint (no model.json inside); was it truncated?");
        try {
            JsonNode root = JSON.readTree(modelJson);
            JsonNode format = root.get("format");
            if (format == null || !format.isTextual() || !FORMAT.equals(format.textValue()))
                throw new CheckpointException(file + ": model.json has format " + (format == null ? "missing" : format.toString())
                        + ", expected \"" + FORMAT + "\"");
            int version = StrictJson.intField(root, "", "version");
            StrictJson.booleanFieldOr(root, "", "partial", false); // isPartial's field: a damaged one is refused here, where it is named
            if (version > VERSION)
                throw new CheckpointException(file + ": checkpoint version " + version + " is newer than this Shears reads (" + VERSION + ")");
            Model.Builder b = Model.builder();
            int at = 0;
            for (JsonNode in : root.get("inputs")) {
                String p = "inputs[" + at++ + "]";
                b.input(StrictJson.textField(in, p, "name"), Shape.of(LayerCodec.ints(in.get("shape"), p + ".shape")));
            }
            at = 0;
            for (JsonNode l : root.get("layers")) {
                String lp = "layers[" + at++ + "]";
                String name = StrictJson.textField(l, lp, "name");
                Layer layer;
                try {
                    layer = LayerCodec.layer(name, StrictJson.textField(l, lp, "type"), l.get("config"), lp + ".config");
                } catch (IllegalArgumentException ex) {
                    throw new CheckpointException(file + ": layer '" + name + "': " + ex.getMessage(), ex);
                }
                List<String> srcs = new ArrayList<>();
                int si = 0;
                for (JsonNode s : l.get("inputs")) srcs.add(StrictJson.toText(s, lp + ".inputs[" + si++ + "]"));
                b.add(layer, srcs);
            }
            Model model = b.output(StrictJson.textField(root, "", "output")).build();
            JsonNode names = root.get("classNames");
            if (names != null) {
                if (!names.isArray()) throw new StrictJson.BadField("classNames", names, "an array of class names");
                List<String> list = new ArrayList<>();
                for (int i = 0; i < names.size(); i++) list.add(StrictJson.toText(names.get(i), "classNames[" + i + "]"));
                model.setClassNames(list);
            }
            model.bind(backend, 0);
            ByteBuffer w = ByteBuffer.wrap(entries.getOrDefault("weights.bin", new byte[0])).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer m = ByteBuffer.wrap(entries.getOrDefault("masks.bin", new byte[0]));
            JsonNode params = root.get("parameters");
            Map<String, Integer> index = new HashMap<>(); // name -> position in params, which errors give as parameters[i]
            for (int i = 0; i < params.size(); i++) index.put(StrictJson.textField(params.get(i), "parameters[" + i + "]", "name"), i);
            for (Parameter p : model.parameters()) {
                Integer pos = index.get(p.name());
                if (pos == null) throw new CheckpointException(file + ": no stored values for parameter " + p.name());
                JsonNode meta = params.get(pos);
                String mp = "parameters[" + pos + "]";
                Shape stored = Shape.of(LayerCodec.ints(meta.get("shape"), mp + ".shape"));
                if (!stored.equals(p.shape()))
                    throw new CheckpointException(file + ": parameter " + p.name() + " stored as " + stored + " but the layer needs " + p.shape());
                int n = p.shape().intSize();
                if (w.remaining() < 4L * n) throw new CheckpointException(file + ": weights.bin is truncated at parameter " + p.name());
                float[] v = new float[n];
                w.asFloatBuffer().get(v);
                w.position(w.position() + 4 * n);
                backend.write(v, 0, p.value(), 0, n);
                if (StrictJson.booleanFieldOr(meta, mp, "masked", false)) {
                    if (m.remaining() < n) throw new CheckpointException(file + ": masks.bin is truncated at parameter " + p.name());
                    byte[] mb = new byte[n];
                    m.get(mb);
                    Tensor mask = backend.uploadBytes(mb, p.shape());
                    p.setMask(mask);
                }
            }
            String recipe = entries.containsKey("recipe.yaml") ? new String(entries.get("recipe.yaml"), StandardCharsets.UTF_8) : null;
            JsonNode metrics = entries.containsKey("metrics.json") ? JSON.readTree(entries.get("metrics.json")) : null;
            TrainingState training = entries.containsKey("training.json")
                    ? TrainingStateCodec.fromJson(JSON.readTree(entries.get("training.json")), entries.get("optimizer.bin"), file.toString())
                    : null;
            return new Checkpoint(model, recipe, metrics, training);
        } catch (IOException | NullPointerException e) {
            throw new CheckpointException(file + ": model.json is malformed (" + e + ")", e);
        } catch (StrictJson.BadField e) {
            throw new CheckpointException(file + ": model.json field " + e.getMessage() + "; the file is corrupt or was edited: use another"
                    + " checkpoint or re-run the training", e);
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
            // model.json parsed, but what it describes is refused by Shape, the layers or Model's own checks
            // (a negative dimension, a layer reading an undefined input, an overflowing size): the file is damaged
            throw new CheckpointException(file + ": model.json describes a model Shears cannot build (" + e.getMessage()
                    + "); the file is corrupt or was edited: use another checkpoint or re-run the training", e);
        }
    }
}
