package dev.shears.io.keras;

import dev.shears.io.ImportException;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The weights of a Keras model, looked up by layer name, from one of the two HDF5 layouts:
 * <ul>
 *   <li>Keras 1 and 2 ({@code save_weights}, or the {@code model_weights} group of a full model
 *       file): a group per layer whose {@code weight_names} attribute lists dataset paths inside
 *       it ({@code dense_1/kernel:0} in Keras 2, {@code dense_1_W:0} in Keras 1);</li>
 *   <li>Keras 3 ({@code model.weights.h5} in a {@code .keras} archive): datasets
 *       {@code layers/<layer>/vars/0, 1, ...} in the layer's own variable order.</li>
 * </ul>
 */
final class KerasWeights {
    private final Path file;
    private final Group root;
    private final boolean keras3;
    /** The backend that wrote the weights ("tensorflow", "theano", ...) or null when not recorded. */
    private final String backend;

    private KerasWeights(Path file, Group root, boolean keras3, String backend) {
        this.file = file;
        this.root = root;
        this.keras3 = keras3;
        this.backend = backend;
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
        return new KerasWeights(file, root, false, backend);
    }

    static KerasWeights keras3(Path file, HdfFile h5) {
        return new KerasWeights(file, h5, true, null);
    }

    Path file() { return file; }

    String backend() { return backend; }

    /** Layer names that have a group in the file (for error messages). */
    List<String> layerNames() {
        if (!keras3) return Hdf5.stringList(file, root, "layer_names");
        List<String> out = new ArrayList<>();
        for (String container : List.of("layers", "_layer_checkpoint_dependencies"))
            if (Hdf5.byPath(file, root, container) instanceof Group g)
                out.addAll(Hdf5.call(file, g.getPath(), () -> g.getChildren().keySet()));
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
        for (String container : List.of("layers", "_layer_checkpoint_dependencies")) {
            vars = Hdf5.byPath(file, root, container + "/" + layer + "/vars");
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
