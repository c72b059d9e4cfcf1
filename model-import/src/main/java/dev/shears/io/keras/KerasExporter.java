package dev.shears.io.keras;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.nn.Model;
import dev.shears.core.util.AtomicFiles;
import dev.shears.io.ImportException;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a bound IR model as a Keras file: {@link #export} picks the format from the file name;
 * this class writes the Keras 2 full-model HDF5 file, the layout {@code model.save} writes:
 * root attributes {@code keras_version}, {@code backend} and {@code model_config} (the Functional
 * config JSON from {@link KerasConfigWriter}); group {@code model_weights} with attribute
 * {@code layer_names}, and per layer a group with attribute {@code weight_names}
 * ({@code dense_1/kernel:0}, ...) holding datasets {@code <layer>/kernel:0}. Pruned weights are
 * exact zeros in the IR, so they stay zeros.
 *
 * <p>Only layers with weights get a group and a place in {@code layer_names}: jhdf 0.13 cannot
 * write the empty {@code weight_names} array Keras gives weight-less layers, and writes a corrupt
 * file when an empty group follows a non-empty one (measured). Keras' own loader keeps only the
 * layers whose {@code weight_names} are non-empty anyway, so the file loads the same.
 * No {@code training_config} is written (Keras then loads the model uncompiled). A model's class
 * names ({@code Model.classNames}) are not written: Keras has no place for them in a model file
 * (they live beside it, e.g. in the {@code class_names} of the data set), and ONNX export keeps them.
 *
 * <p>The file is written to a temporary file in the target's folder and moved over the target
 * only when complete; writing over one of the model's own input files is refused.
 */
public final class KerasExporter {
    private KerasExporter() {}

    /** The Keras version whose file layout this writes. */
    static final String KERAS_VERSION = "2.2.4";

    /** The file name endings {@link #export} accepts, and what each writes. */
    public static final List<String> EXTENSIONS = List.of(".keras (Keras 3 archive)", ".h5 or .hdf5 (Keras 2 full-model HDF5)");

    /**
     * Writes {@code model} to {@code target} in the Keras format its name asks for: a Keras 3
     * {@code .keras} archive ({@link KerasArchiveExporter}) or a Keras 2 HDF5 file for
     * {@code .h5} / {@code .hdf5} ({@link #exportHdf5}). Any other name is refused, naming the
     * ones accepted, so that a typo does not produce a file Keras will not open.
     *
     * @param inputs the files the model was read from; writing over one of them is refused
     */
    public static void export(Model model, Path target, Path... inputs) {
        String name = target.getFileName() == null ? "" : target.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".keras")) KerasArchiveExporter.export(model, target, inputs);
        else if (name.endsWith(".h5") || name.endsWith(".hdf5")) exportHdf5(model, target, inputs);
        else {
            int dot = name.lastIndexOf('.');
            String ext = dot < 0 ? "no extension" : "extension '" + name.substring(dot) + "'";
            throw new ImportException("cannot tell which Keras format to write from the file name (" + ext
                    + "); name the output .keras for a Keras 3 archive or .h5 / .hdf5 for Keras 2 HDF5", target, null, EXTENSIONS, null);
        }
    }

    /**
     * Writes {@code model} to {@code target} as a Keras 2 full-model HDF5 file, whatever its name.
     *
     * @param inputs the files the model was read from; writing over one of them is refused
     */
    public static void exportHdf5(Model model, Path target, Path... inputs) {
        KerasConfigWriter writer = new KerasConfigWriter(model, target, KerasConfigWriter.Target.KERAS2_HDF5);
        ObjectNode config = writer.write(); // refuses what Keras 2 cannot hold (hard swish, Keras 3's hard sigmoid)
        List<KerasConfigWriter.LayerWeights> weights = writer.weights();
        try {
            AtomicFiles.write(target, out -> {
                Path scratch = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName() + ".", ".h5tmp");
                try {
                    writeHdf5(scratch, config, weights);
                    Files.copy(scratch, out);
                } finally {
                    Files.deleteIfExists(scratch);
                }
            }, inputs);
        } catch (IllegalArgumentException e) { // AtomicFiles refuses to overwrite an input
            throw new ImportException(e.getMessage(), target, null, List.of(), e);
        }
        // an I/O failure (UncheckedIOException, "cannot write TARGET: why") goes up as it is: wrapped, it
        // read "TARGET: cannot write: cannot write TARGET: ..." and passed for a problem with the model
    }

    private static void writeHdf5(Path file, ObjectNode config, List<KerasConfigWriter.LayerWeights> weights) throws IOException {
        try (WritableHdfFile h5 = HdfFile.write(file)) {
            h5.putAttribute("keras_version", KERAS_VERSION);
            h5.putAttribute("backend", "tensorflow");
            h5.putAttribute("model_config", config.toString());
            WritableGroup mw = h5.putGroup("model_weights");
            List<String> layerNames = new ArrayList<>();
            for (var lw : weights) if (!lw.weights().isEmpty()) layerNames.add(lw.layer());
            if (!layerNames.isEmpty()) mw.putAttribute("layer_names", layerNames.toArray(String[]::new));
            mw.putAttribute("backend", "tensorflow");
            mw.putAttribute("keras_version", KERAS_VERSION);
            for (var lw : weights) {
                if (lw.weights().isEmpty()) continue;
                WritableGroup g = mw.putGroup(lw.layer());
                List<String> names = new ArrayList<>();
                WritableGroup inner = g.putGroup(lw.layer());
                for (var w : lw.weights()) {
                    names.add(lw.layer() + "/" + w.name());
                    inner.putDataset(w.name(), nested(w.data(), w.dims()));
                }
                g.putAttribute("weight_names", names.toArray(String[]::new));
            }
        } catch (RuntimeException e) {
            throw new IOException("HDF5 writing failed: " + e, e);
        }
        verify(file, weights);
    }

    /** Reads the written file back (jhdf's writer is young): every layer group and dataset shape. */
    private static void verify(Path file, List<KerasConfigWriter.LayerWeights> weights) throws IOException {
        try (HdfFile h5 = new HdfFile(file)) {
            if (h5.getAttribute("model_config") == null) throw new IOException("model_config attribute missing");
            for (var lw : weights) {
                for (var w : lw.weights()) {
                    var ds = h5.getDatasetByPath("model_weights/" + lw.layer() + "/" + lw.layer() + "/" + w.name());
                    if (!java.util.Arrays.equals(ds.getDimensions(), w.dims()))
                        throw new IOException("dataset " + ds.getPath() + " reads back as " + java.util.Arrays.toString(ds.getDimensions()));
                }
            }
        } catch (RuntimeException e) {
            throw new IOException("the HDF5 file written does not read back: " + e, e);
        }
    }

    /** A row-major flat array as the nested Java array jhdf writes as an n-dimensional dataset. */
    static Object nested(float[] flat, int[] dims) {
        if (dims.length == 1) return flat.clone();
        Object out = Array.newInstance(float.class, dims);
        fill(out, flat, dims, 0, 0);
        return out;
    }

    private static int fill(Object array, float[] flat, int[] dims, int axis, int at) {
        if (axis == dims.length - 1) {
            System.arraycopy(flat, at, (float[]) array, 0, dims[axis]);
            return at + dims[axis];
        }
        for (int i = 0; i < dims[axis]; i++) at = fill(Array.get(array, i), flat, dims, axis + 1, at);
        return at;
    }
}
