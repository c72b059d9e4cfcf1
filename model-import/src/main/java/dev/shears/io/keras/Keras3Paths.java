package dev.shears.io.keras;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where Keras 3 stores a layer's variables in {@code model.weights.h5}. Keras does not use the
 * layer's name (names are auto-generated and differ between sessions) but the snake_case form of
 * the layer's class name, numbered by position among the model's layers of that class:
 * the first Dense of a model is {@code layers/dense}, the second {@code layers/dense_1}, whatever
 * the layers are called. The model's layers are those of {@code model.layers}: every layer of the
 * config for a Functional model (InputLayers included), every layer but the InputLayer for a
 * Sequential one. (Facts from Keras 3's saving_lib {@code _save_container_state} and
 * {@code naming.to_snake_case}, checked against files written by Keras 3.15.1.)
 */
final class Keras3Paths {
    private Keras3Paths() {}

    /** The group holding the layers' groups; each layer's variables are in {@code <group>/vars}. */
    static final String LAYERS = "layers";

    /** Keras' to_snake_case: drop non-word characters, then split CamelCase words with '_'. */
    static String snakeCase(String className) {
        String n = className.replaceAll("\\W+", "");
        n = n.replaceAll("(.)([A-Z][a-z]+)", "$1_$2");
        return n.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }

    /** A class-and-layer-name pair in the order of {@code model.layers}. */
    record SavedLayer(String className, String name) {}

    /**
     * Layer name -> its group path ({@code layers/dense_1}) for the layers in {@code model.layers}
     * order (the caller leaves out a Sequential model's InputLayer).
     */
    static Map<String, String> assign(List<SavedLayer> layers) {
        Map<String, Integer> used = new HashMap<>();
        Map<String, String> out = new LinkedHashMap<>();
        for (SavedLayer l : layers) {
            String base = snakeCase(l.className());
            Integer n = used.get(base);
            String name = n == null ? base : base + "_" + (n + 1);
            used.put(base, n == null ? 0 : n + 1);
            out.put(l.name(), LAYERS + "/" + name);
        }
        return out;
    }
}
