package dev.shears.io.keras;

import dev.shears.io.ImportException;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights of a Keras model, looked up by layer name, from one of the two HDF5 layouts:
 * <ul>
 *   <li>Keras 1 and 2 ({@code save_weights}, or the {@code model_weights} group of a full model
 *       file): a group per layer whose {@code weight_names} attribute lists dataset paths inside
 *       it ({@code dense_1/kernel:0} in Keras 2, {@code dense_1_W:0} in Keras 1);</li>
 *   <li>Keras 3 ({@code model.weights.h5} in a {@code .keras} archive): datasets
 *       {@code layers/<group>/vars/0, 1, ...} in the layer's own variable order, where the group
 *       is named after the layer's class and position, not its name ({@link Keras3Paths}): the
 *       config gives the mapping ({@link #withKeras3Paths}). A file whose groups are named after
 *       the layers (as some hand-made files are) is read too.</li>
 * </ul>
 */
final class KerasWeights {
    private final Path file;
    private final Group root;
    private final boolean keras3;
    /** The backend that wrote the weights ("tensorflow", "theano", ...) or null when not recorded. */
    private final String backend;
    /** Keras 3: layer name -> its group ({@code layers/dense_1}); empty when the config is not known. */
    private final Map<String, String> keras3Paths;

    private KerasWeights(Path file, Group root, boolean keras3, String backend, Map<String, String> keras3Paths) {
        this.file = file;
        this.root = root;
        this.keras3 = keras3;
        this.backend = backend;
        this.keras3Paths = keras3Paths;
    }

    /** These weights with the model config's Keras 3 group for each layer (no effect on Keras 1/2 files). */
    KerasWeights withKeras3Paths(Map<String, String> paths) {
        return keras3 ? new KerasWeights(file, root, true, backend, Map.copyOf(paths)) : this;
    }

    /** Keras 1/2 layout; {@code root} is the file root (weights-only) or its model_weights group. */
    static KerasWeights legacy(Path file, HdfFile h5) {
        Node mw = Hdf5.child(file, h5, "model_weights");
        Group root = mw instanceof Group g ? g : h5;
        boolean noLayerNames = Hdf5.stringList(file, root, "layer_names").isEmpty();
        if (noLayerNames && Hdf5.byPath(file, root, "layers") instanceof Group)
            return keras3(file, h5);
        if (noLayerNames && root == h5)
            throw new ImportException("no Keras weights here: neither a 'layer_names' attribute (Keras 1/2 weights) nor a "
                    + "'layers' group (Keras 3 weights)", file, null);
        String backend = Hdf5.stringAttribute(file, root, "backend");
        if (backend == null) backend = Hdf5.stringAttribute(file, h5, "backend");
        return new KerasWeights(file, root, false, backend, Map.of());
    }

    static KerasWeights keras3(Path file, HdfFile h5) {
        return new KerasWeights(file, h5, true, null, Map.of());
    }

    Path file() { return file; }

    String backend() { return backend; }

    /**
     * Layer names that have a group in the file. In a Keras 3 file a group the config maps to a
     * layer is reported under that layer's name, any other under the group's own name.
     */
    List<String> layerNames() {
        if (!keras3) return Hdf5.stringList(file, root, "layer_names");
        Map<String, String> layerOfPath = new HashMap<>();
        keras3Paths.forEach((layer, path) -> layerOfPath.put(path, layer));
        List<String> out = new ArrayList<>();
        for (String container : List.of(Keras3Paths.LAYERS, "_layer_checkpoint_dependencies"))
            if (Hdf5.byPath(file, root, container) instanceof Group g)
                for (String child : Hdf5.call(file, g.getPath(), () -> g.getChildren().keySet()))
                    out.add(layerOfPath.getOrDefault(container + "/" + child, child));
        return out;
    }

    /** The layer's stored weights in file order; empty when the file holds none for it. */
    List<StoredWeight> forLayer(String layer) {
        return keras3 ? keras3Layer(layer) : legacyLayer(layer);
    }

    private List<StoredWeight> legacyLayer(String layer) {
        if (!(Hdf5.child(file, root, layer) instanceof Group g)) return List.of();
        List<StoredWeight> out = new ArrayList<>();
        for (String wn : Hdf5.stringList(file, g, "weight_names")) {
            Node n = Hdf5.byPath(file, g, wn);
            if (n == null) n = Hdf5.child(file, g, wn.substring(wn.lastIndexOf('/') + 1));
            if (!(n instanceof Dataset ds))
                throw new ImportException("weight_names lists '" + wn + "' but the group '" + g.getPath() + "' holds no such dataset",
                        file, layer);
            out.add(new StoredWeight(wn, StoredWeight.roleOf(wn), Hdf5.dims(file, ds), Hdf5.floats(file, ds)));
        }
        return out;
    }

    private List<StoredWeight> keras3Layer(String layer) {
        Node vars = null;
        List<String> candidates = new ArrayList<>();
        String mapped = keras3Paths.get(layer);
        String group = mapped == null ? null : mapped.substring(mapped.indexOf('/') + 1);
        // Where Keras itself looks (the container was '_layer_checkpoint_dependencies' in early Keras 3 files) ...
        List<String> containers = List.of(Keras3Paths.LAYERS, "_layer_checkpoint_dependencies");
        if (group != null) for (String container : containers) candidates.add(container + "/" + group);
        // ... and, only when that holds nothing, a group carrying the layer's own name (hand-made files).
        if (group == null || candidates.stream().noneMatch(c -> Hdf5.byPath(file, root, c) != null))
            for (String container : containers) candidates.add(container + "/" + layer);
        for (String c : candidates) {
            vars = Hdf5.byPath(file, root, c + "/vars");
            if (vars != null) break;
        }
        if (!(vars instanceof Group g)) return List.of();
        Map<String, Node> children = Hdf5.call(file, g.getPath(), g::getChildren);
        List<String> names = new ArrayList<>(children.keySet());
        for (String n : names)
            if (!n.matches("\\d+")) throw new ImportException("unexpected entry '" + n + "' in " + g.getPath() + " (Keras 3 names variables 0, 1, ...)", file, layer);
        names.sort(Comparator.comparingInt(Integer::parseInt));
        List<StoredWeight> out = new ArrayList<>();
        for (String n : names) {
            if (!(children.get(n) instanceof Dataset ds)) throw new ImportException(g.getPath() + "/" + n + " is not a dataset", file, layer);
            out.add(new StoredWeight("vars/" + n, null, Hdf5.dims(file, ds), Hdf5.floats(file, ds)));
        }
        return out;
    }
}
