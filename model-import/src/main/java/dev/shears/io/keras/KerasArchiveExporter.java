package dev.shears.io.keras;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.core.nn.Model;
import dev.shears.core.util.AtomicFiles;
import dev.shears.io.ImportException;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.WritableGroup;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a bound IR model as a Keras 3 {@code .keras} archive, the format of
 * {@code model.save("x.keras")}: a zip (entries stored, not compressed, as Keras writes them) of
 * <ul>
 *   <li>{@code metadata.json}: {@code {"keras_version": ..., "date_saved": "yyyy-MM-dd@HH:mm:ss"}};</li>
 *   <li>{@code config.json}: the Functional model ({@link Keras3Config});</li>
 *   <li>{@code model.weights.h5}: for each layer of {@code model.layers} a group
 *       {@code layers/<class_name_in_snake_case>[_n]/vars} (see {@link Keras3Paths}) with attribute
 *       {@code name} (the layer's name) and datasets {@code 0, 1, ...} (float32, Keras layout, in
 *       the layer's variable order); weight-less layers get an empty {@code vars} group, and the
 *       model itself a root {@code vars} group, as Keras writes them.</li>
 * </ul>
 * The layers and weights are those of {@link KerasConfigWriter} (channels_last, the HDF5
 * exporter's translation), so pruned weights stay exact zeros. The archive is written through a
 * temporary file and moved over the target when complete; writing over an input is refused.
 */
public final class KerasArchiveExporter {
    private KerasArchiveExporter() {}

    static final String METADATA = "metadata.json";
    static final String CONFIG = "config.json";
    static final String WEIGHTS = "model.weights.h5";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Writes {@code model} to {@code target} as a {@code .keras} archive.
     *
     * @param inputs the files the model was read from; writing over one of them is refused
     */
    public static void export(Model model, Path target, Path... inputs) {
        KerasConfigWriter writer = new KerasConfigWriter(model, target, KerasConfigWriter.Target.KERAS3_ARCHIVE);
        writer.write();
        ObjectNode config = Keras3Config.write(writer.layers(), writer.inputLayers(), writer.outputLayer(), target);
        Map<String, String> paths = savedPaths(writer.layers());
        ObjectNode metadata = JSON.createObjectNode().put("keras_version", Keras3Config.KERAS_VERSION)
                .put("date_saved", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd@HH:mm:ss")));
        try {
            AtomicFiles.write(target, out -> {
                byte[] weights = weightsFile(target, writer.layers(), paths);
                Map<String, byte[]> entries = new LinkedHashMap<>();
                entries.put(METADATA, metadata.toString().getBytes(StandardCharsets.UTF_8));
                entries.put(CONFIG, config.toString().getBytes(StandardCharsets.UTF_8));
                entries.put(WEIGHTS, weights);
                zipStored(out, entries);
            }, inputs);
        } catch (IllegalArgumentException e) { // AtomicFiles refuses to overwrite an input
            throw new ImportException(e.getMessage(), target, null, List.of(), e);
        }
        // an I/O failure (UncheckedIOException, "cannot write TARGET: why") goes up as it is: wrapped, it
        // read "TARGET: cannot write: cannot write TARGET: ..." and passed for a problem with the model
    }

    /** Layer name -> its group in the weights file; every layer of a Functional model counts, InputLayers too. */
    static Map<String, String> savedPaths(List<KerasConfigWriter.KerasLayer> layers) {
        return Keras3Paths.assign(layers.stream().map(l -> new Keras3Paths.SavedLayer(l.className(), l.name())).toList());
    }

    /** model.weights.h5 as bytes (jhdf writes files only, so through a scratch file beside the target), checked by reading it back. */
    private static byte[] weightsFile(Path target, List<KerasConfigWriter.KerasLayer> layers, Map<String, String> paths) throws IOException {
        WritableGroup root = Hdf5TreeWriter.newRoot();
        WritableGroup layersGroup = root.putGroup(Keras3Paths.LAYERS);
        for (KerasConfigWriter.KerasLayer l : layers) {
            String group = paths.get(l.name()).substring(Keras3Paths.LAYERS.length() + 1);
            WritableGroup vars = layersGroup.putGroup(group).putGroup("vars");
            vars.putAttribute("name", l.name());
            for (int i = 0; i < l.weights().size(); i++) {
                var w = l.weights().get(i);
                vars.putDataset(Integer.toString(i), KerasExporter.nested(w.data(), w.dims()));
            }
        }
        root.putGroup("vars").putAttribute("name", Keras3Config.MODEL_NAME);
        Path scratch = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName() + ".", ".h5tmp");
        try {
            Hdf5TreeWriter.write(root, scratch);
            byte[] bytes = Files.readAllBytes(scratch);
            verify(bytes, layers, paths);
            return bytes;
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    /** Reads the weights file back (jhdf's writer is young): every group, and every dataset's shape and values. */
    private static void verify(byte[] bytes, List<KerasConfigWriter.KerasLayer> layers, Map<String, String> paths) throws IOException {
        try (HdfFile h5 = HdfFile.fromBytes(bytes)) {
            if (h5.getChild("vars") == null) throw new IOException("the root vars group is missing");
            for (KerasConfigWriter.KerasLayer l : layers) {
                String vars = paths.get(l.name()) + "/vars";
                if (h5.getByPath(vars) == null) throw new IOException("group " + vars + " is missing");
                for (int i = 0; i < l.weights().size(); i++) {
                    var w = l.weights().get(i);
                    Dataset ds = h5.getDatasetByPath(vars + "/" + i);
                    if (!Arrays.equals(ds.getDimensions(), w.dims()) || !Arrays.equals((float[]) ds.getDataFlat(), w.data()))
                        throw new IOException("dataset " + ds.getPath() + " does not read back as written");
                }
            }
        } catch (RuntimeException e) {
            throw new IOException("the weights file written does not read back: " + e, e);
        }
    }

    /** A zip whose entries are stored uncompressed, as Keras' zipfile.ZipFile(..., "w") writes them. */
    private static void zipStored(OutputStream out, Map<String, byte[]> entries) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        for (var e : entries.entrySet()) {
            ZipEntry entry = new ZipEntry(e.getKey());
            byte[] data = e.getValue();
            CRC32 crc = new CRC32();
            crc.update(data);
            entry.setMethod(ZipEntry.STORED);
            entry.setSize(data.length);
            entry.setCompressedSize(data.length);
            entry.setCrc(crc.getValue());
            zip.putNextEntry(entry);
            zip.write(data);
            zip.closeEntry();
        }
        zip.finish(); // not close(): AtomicFiles owns and closes the stream
    }
}
