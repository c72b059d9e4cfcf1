package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Shears' {@code .keras} archive against one written by Keras 3.15.1 for the same model
 * ({@code keras3/all_layers.keras}: every layer class the exporter writes). The real file is
 * imported and exported again, and the two archives must have the same zip entries, the same
 * {@code config.json} structure for every layer (keys, nesting, array lengths and value kinds;
 * values may differ where Keras allows two spellings, e.g. axis -1 or 3) and the same HDF5
 * groups, attributes, datasets, shapes and dtypes in {@code model.weights.h5}.
 */
class Keras3StructureTest {
    static Backend cpu;
    @TempDir Path dir;

    @BeforeAll static void setUp() { cpu = CpuBackend.create(); }

    @AfterAll static void tearDown() { cpu.close(); }

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The JSON with every leaf replaced by its kind, so that two configs compare by structure.
     * Keras' {@code shared_object_id} is left out: Keras adds it to objects shared by several
     * layers (the dtype policy) while serialising, and ignores it when the object is not shared.
     */
    static JsonNode structure(JsonNode n) {
        if (n.isObject()) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            new TreeSet<>(fieldNames(n)).forEach(k -> {
                if (!k.equals("shared_object_id")) out.set(k, structure(n.get(k)));
            });
            return out;
        }
        if (n.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            n.forEach(e -> out.add(structure(e)));
            return out;
        }
        return JsonNodeFactory.instance.textNode(n.isNull() ? "null" : n.isBoolean() ? "bool" : n.isNumber() ? "number" : "string");
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** Every group and dataset of an HDF5 file: path -> attributes (name=value), or dtype and shape. */
    static TreeMap<String, String> layout(byte[] h5bytes) {
        TreeMap<String, String> out = new TreeMap<>();
        try (HdfFile h5 = HdfFile.fromBytes(h5bytes)) {
            walk(h5, out);
        }
        return out;
    }

    private static void walk(Node n, TreeMap<String, String> out) {
        StringBuilder s = new StringBuilder(n instanceof Group ? "group" : "dataset");
        for (var e : new TreeMap<>(n.getAttributes()).entrySet()) s.append(' ').append(e.getKey()).append('=').append(value(e.getValue()));
        if (n instanceof Dataset ds) s.append(' ').append(ds.getJavaType().getSimpleName()).append(Arrays.toString(ds.getDimensions()));
        String path = n.getPath();
        out.put(path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path, s.toString()); // jhdf ends group paths with '/'
        if (n instanceof Group g) for (Node c : g.getChildren().values()) walk(c, out);
    }

    private static String value(Attribute a) {
        Object v = a.getData();
        return v != null && v.getClass().isArray() ? Arrays.deepToString(new Object[]{v}) : String.valueOf(v);
    }

    record Archive(List<String> entries, List<Integer> methods, JsonNode metadata, JsonNode config, byte[] weights) {}

    static Archive open(Path file) throws Exception {
        try (ZipFile z = new ZipFile(file.toFile())) {
            List<String> names = z.stream().map(ZipEntry::getName).toList();
            List<Integer> methods = z.stream().map(ZipEntry::getMethod).toList();
            return new Archive(names, methods,
                    JSON.readTree(new String(z.getInputStream(z.getEntry("metadata.json")).readAllBytes(), StandardCharsets.UTF_8)),
                    JSON.readTree(new String(z.getInputStream(z.getEntry("config.json")).readAllBytes(), StandardCharsets.UTF_8)),
                    z.getInputStream(z.getEntry("model.weights.h5")).readAllBytes());
        }
    }

    private Archive[] realAndShears() throws Exception {
        Path real = KerasArchiveExporterTest.keras3Resource("all_layers.keras");
        Model m = KerasImporter.load(real, Optional.empty(), cpu);
        Path out = dir.resolve("shears.keras");
        KerasExporter.export(m, out, real);
        return new Archive[]{open(real), open(out)};
    }

    @Test
    void sameZipEntriesStoredUncompressedAndSameMetadataKeys() throws Exception {
        Archive[] a = realAndShears();
        assertEquals(a[0].entries(), a[1].entries());
        assertEquals(a[0].methods(), a[1].methods(), "Keras stores the entries uncompressed");
        assertEquals(structure(a[0].metadata()), structure(a[1].metadata()));
    }

    @Test
    void sameConfigStructureForTheModelAndEveryLayer() throws Exception {
        Archive[] a = realAndShears();
        JsonNode real = a[0].config(), ours = a[1].config();
        List<String> realClasses = new ArrayList<>(), ourClasses = new ArrayList<>();
        real.get("config").get("layers").forEach(l -> realClasses.add(l.get("class_name").asText()));
        ours.get("config").get("layers").forEach(l -> ourClasses.add(l.get("class_name").asText()));
        assertEquals(realClasses, ourClasses, "the same layers in the same order");
        for (String cls : List.of("InputLayer", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
                "BatchNormalization", "Activation", "LeakyReLU", "ELU", "PReLU", "Dropout", "Flatten", "Reshape", "Permute",
                "ZeroPadding2D", "Add", "Multiply", "Concatenate"))
            assertTrue(realClasses.contains(cls), "the reference covers " + cls);

        // The model object: everything but the layer list.
        ObjectNode realTop = real.deepCopy(), ourTop = ours.deepCopy();
        ((ObjectNode) realTop.get("config")).remove("layers");
        ((ObjectNode) ourTop.get("config")).remove("layers");
        assertEquals(structure(realTop), structure(ourTop), "model-level config.json structure");
        assertEquals(real.get("module").asText(), ours.get("module").asText());
        assertEquals(real.get("registered_name").asText(), ours.get("registered_name").asText());
        for (int i = 0; i < realClasses.size(); i++) {
            JsonNode r = real.get("config").get("layers").get(i), o = ours.get("config").get("layers").get(i);
            assertEquals(structure(r), structure(o), "layer " + i + " (" + realClasses.get(i) + "): real " + r + "\nours " + o);
            assertEquals(r.get("module"), o.get("module"));
        }
    }

    @Test
    void sameWeightsFileLayout() throws Exception {
        Archive[] a = realAndShears();
        TreeMap<String, String> real = layout(a[0].weights()), ours = layout(a[1].weights());
        assertEquals(real.keySet(), ours.keySet(), "the same groups and datasets");
        // Each vars group's name attribute is its layer's name: equal to the config's, which may differ
        // between the files (a Permute Shears re-creates gets a name of its own; the model is 'shears_model').
        for (String path : real.keySet())
            assertEquals(real.get(path).replaceAll("name=\\S+", "name=*"), ours.get(path).replaceAll("name=\\S+", "name=*"), path);
        assertTrue(ours.get("/vars").startsWith("group name=" + Keras3Config.MODEL_NAME), ours.get("/vars"));
        List<String> classes = new ArrayList<>(), names = new ArrayList<>();
        a[1].config().get("config").get("layers").forEach(l -> {
            classes.add(l.get("class_name").asText());
            names.add(l.get("name").asText());
        });
        var paths = Keras3Paths.assign(java.util.stream.IntStream.range(0, names.size())
                .mapToObj(i -> new Keras3Paths.SavedLayer(classes.get(i), names.get(i))).toList());
        for (String layer : names) assertEquals("group name=" + layer, ours.get("/" + paths.get(layer) + "/vars"), layer);
        assertTrue(real.containsKey("/layers/p_re_lu/vars/0") && real.containsKey("/layers/batch_normalization/vars/3"), "reference has weights");
    }
}
