package dev.shears.io.keras;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes weights-only HDF5 files in the Keras 1/2 layout (or Keras 3 {@code layers/<name>/vars/i})
 * for tests, with jhdf directly (not through the exporter under test).
 */
final class KerasH5Writer {
    private KerasH5Writer() {}

    /** layer -> (weight name as listed in weight_names -> array), in order. */
    static final class Weights {
        final Map<String, Map<String, KerasTestSupport.Array>> layers = new LinkedHashMap<>();

        Weights put(String layer, String weightName, int[] dims, float[] data) {
            layers.computeIfAbsent(layer, k -> new LinkedHashMap<>()).put(weightName, new KerasTestSupport.Array(dims, data));
            return this;
        }
    }

    /** Keras 1/2 save_weights layout; {@code backend} may be null (Keras 1 wrote none). */
    static void writeLegacy(Path file, Weights w, String kerasVersion, String backend) {
        try (WritableHdfFile h5 = HdfFile.write(file)) {
            h5.putAttribute("layer_names", w.layers.keySet().toArray(String[]::new));
            if (kerasVersion != null) h5.putAttribute("keras_version", kerasVersion);
            if (backend != null) h5.putAttribute("backend", backend);
            for (var layer : w.layers.entrySet()) {
                WritableGroup g = h5.putGroup(layer.getKey());
                g.putAttribute("weight_names", layer.getValue().keySet().toArray(String[]::new));
                Map<String, WritableGroup> groups = new LinkedHashMap<>();
                groups.put("", g);
                for (var e : layer.getValue().entrySet()) {
                    String[] parts = e.getKey().split("/");
                    WritableGroup target = g;
                    String prefix = "";
                    for (int i = 0; i < parts.length - 1; i++) {
                        WritableGroup parent = target;
                        String part = parts[i];
                        prefix = prefix + "/" + part;
                        target = groups.computeIfAbsent(prefix, k -> parent.putGroup(part));
                    }
                    target.putDataset(parts[parts.length - 1], KerasExporter.nested(e.getValue().data(), e.getValue().dims()));
                }
            }
        }
    }

    /** Keras 3 model.weights.h5 layout: layers/<layer>/vars/0, 1, ... in the given order. */
    static void writeKeras3(Path file, Weights w) {
        try (WritableHdfFile h5 = HdfFile.write(file)) {
            // Keras also writes an empty "vars" group for the model itself; jhdf 0.13 writes a corrupt
            // file when an empty group follows a non-empty sibling, so it is left out.
            WritableGroup layers = h5.putGroup("layers");
            for (var layer : w.layers.entrySet()) {
                WritableGroup vars = layers.putGroup(layer.getKey()).putGroup("vars");
                int i = 0;
                for (var e : layer.getValue().values()) vars.putDataset(Integer.toString(i++), KerasExporter.nested(e.data(), e.dims()));
            }
        }
    }
}
