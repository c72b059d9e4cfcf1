package dev.shears.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Model;
import dev.shears.core.util.StrictJson;
import dev.shears.io.ImportException;
import io.jhdf.HdfFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads Keras models into the IR: full-model HDF5 files ({@code model.save}, Keras 1 and 2), a
 * config JSON ({@code model.to_json()}) with a weights-only HDF5 ({@code save_weights}), and
 * Keras 3 {@code .keras} archives. Sequential and Functional models; 'th'/channels_first and
 * 'tf'/channels_last layouts. See {@link KerasModel} for how inputs and outputs are laid out
 * (exactly as in Keras) and {@link KerasGraphBuilder#SUPPORTED} for the layers.
 */
public final class KerasImporter {
    private KerasImporter() {}

    /** Seed for initialising parameters before the stored weights overwrite them (none stay random). */
    private static final long BIND_SEED = 0;

    /** Whether {@code file} is a Keras file this importer reads (by content, not by name). */
    public static boolean canRead(Path file) {
        return KerasFormat.detect(file).isPresent();
    }

    /**
     * Imports a Keras model bound to {@code backend} with its stored weights.
     *
     * @param modelFile   a full-model {@code .h5}, a {@code .keras} archive, or a config {@code .json}
     * @param weightsFile the weights {@code .h5}: required with a config JSON, and overrides the
     *                    weights inside a full-model file or archive when given
     */
    public static Model load(Path modelFile, Optional<Path> weightsFile, Backend backend) {
        return importModel(modelFile, weightsFile, backend).model();
    }

    /** As {@link #load}, keeping where each Keras layer's output lives in the IR. */
    public static KerasModel importModel(Path modelFile, Optional<Path> weightsFile, Backend backend) {
        if (!Files.isRegularFile(modelFile)) throw new ImportException("no such file", modelFile, null);
        weightsFile.ifPresent(w -> {
            if (!Files.isRegularFile(w)) throw new ImportException("no such weights file", w, null);
        });
        // The first bytes tell the container; each reader below opens the file once and looks inside
        // (an HDF5 file's root attributes, an archive's entries) with that one handle.
        KerasFormat.Container container = KerasFormat.container(modelFile).orElseThrow(() -> notKeras(modelFile));
        return switch (container) {
            case HDF5 -> fromHdf5(modelFile, weightsFile, backend);
            case JSON -> fromConfigJson(modelFile, weightsFile.orElseThrow(() -> new ImportException(
                    "a config JSON holds the architecture only; give the weights .h5 as well (--weights FILE)", modelFile, null)), backend);
            case ZIP -> fromArchive(modelFile, weightsFile, backend);
        };
    }

    private static ImportException notKeras(Path file) {
        return new ImportException("not a Keras file: neither HDF5, nor a .keras zip archive, nor a JSON model config", file, null,
                List.of("Keras .h5 (full model)", ".keras archive", "config .json + weights .h5"), null);
    }

    private static KerasModel fromHdf5(Path file, Optional<Path> weightsFile, Backend backend) {
        try (HdfFile h5 = Hdf5.open(file)) {
            if (KerasFormat.ofHdf5(file, h5) == KerasFormat.HDF5_WEIGHTS)
                // say the flags: "pass the config as the model" left the user to work out --model CONFIG.json --weights FILE.h5
                throw new ImportException("this HDF5 file holds only weights (saved with save_weights, no "
                        + "model_config attribute); give the model's config with it: --model CONFIG.json --weights " + file, file, null);
            String configText = Hdf5.stringAttribute(file, h5, "model_config");
            String version = Hdf5.stringAttribute(file, h5, "keras_version");
            KerasModelConfig cfg = KerasModelConfig.parse(KerasModelConfig.parseJson(configText, file, "the model_config attribute"), file);
            if (weightsFile.isPresent()) return withWeightsFile(cfg, file, KerasFormat.HDF5_FULL_MODEL, version, weightsFile.get(), backend);
            return assemble(cfg, file, KerasFormat.HDF5_FULL_MODEL, version, KerasWeights.legacy(file, h5), version != null && version.startsWith("3"), backend);
        }
    }

    private static KerasModel fromConfigJson(Path file, Path weightsFile, Backend backend) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ImportException("cannot read: " + e.getMessage(), file, null, List.of(), e);
        }
        JsonNode root = KerasModelConfig.parseJson(text, file, "the model config");
        String version = kerasVersion(root, "the model config", file, null);
        return withWeightsFile(KerasModelConfig.parse(root, file), file, KerasFormat.CONFIG_JSON, version, weightsFile, backend);
    }

    /**
     * The optional {@code keras_version} of a config or metadata.json, {@code fallback} when absent: a JSON
     * string (Jackson's asText() turned 2.4 or an object into text, and "3..." decides the weight layout).
     */
    private static String kerasVersion(JsonNode root, String what, Path file, String fallback) {
        try {
            return StrictJson.textFieldOr(root, "", "keras_version", fallback);
        } catch (StrictJson.BadField e) {
            throw new ImportException(what + ": " + e.getMessage() + " (is the file corrupt?)", file, null);
        }
    }

    private static KerasModel withWeightsFile(KerasModelConfig cfg, Path file, KerasFormat format, String version, Path weightsFile, Backend backend) {
        if (KerasFormat.container(weightsFile).filter(c -> c == KerasFormat.Container.HDF5).isEmpty())
            throw new ImportException("the weights file is not an HDF5 file", weightsFile, null);
        try (HdfFile h5 = Hdf5.open(weightsFile)) {
            KerasWeights w = KerasWeights.legacy(weightsFile, h5);
            if (version == null) version = Hdf5.stringAttribute(weightsFile, h5, "keras_version");
            return assemble(cfg, file, format, version, w, version != null && version.startsWith("3"), backend);
        }
    }

    private static KerasModel fromArchive(Path file, Optional<Path> weightsFile, Backend backend) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            if (!KerasFormat.isArchive(zip)) throw notKeras(file);
            String configText = entryText(zip, "config.json", file);
            KerasModelConfig cfg = KerasModelConfig.parse(KerasModelConfig.parseJson(configText, file, "config.json"), file);
            String version = "3";
            if (zip.getEntry("metadata.json") != null) {
                JsonNode meta = KerasModelConfig.parseJson(entryText(zip, "metadata.json", file), file, "metadata.json");
                version = kerasVersion(meta, "metadata.json", file, version);
            }
            if (weightsFile.isPresent()) return withWeightsFile(cfg, file, KerasFormat.KERAS_ARCHIVE, version, weightsFile.get(), backend);
            ZipEntry we = zip.getEntry("model.weights.h5");
            if (we == null) throw new ImportException("the archive has no model.weights.h5 (entries: " + entries(zip) + ")", file, null);
            byte[] bytes = zip.getInputStream(we).readAllBytes();
            Path where = file.resolve("model.weights.h5");
            try (HdfFile h5 = Hdf5.open(bytes, where)) {
                return assemble(cfg, file, KerasFormat.KERAS_ARCHIVE, version, KerasWeights.keras3(where, h5), true, backend);
            }
        } catch (IOException e) {
            throw new ImportException("cannot read the .keras archive (truncated or corrupt?): " + e.getMessage(), file, null, List.of(), e);
        }
    }

    private static String entryText(ZipFile zip, String name, Path file) throws IOException {
        ZipEntry e = zip.getEntry(name);
        if (e == null) throw new ImportException("the archive has no " + name + " (entries: " + entries(zip) + ")", file, null);
        return new String(zip.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8);
    }

    private static List<String> entries(ZipFile zip) {
        return zip.stream().map(ZipEntry::getName).toList();
    }

    private static KerasModel assemble(KerasModelConfig cfg, Path file, KerasFormat format, String version,
                                       KerasWeights weights, boolean keras3, Backend backend) {
        // Keras 3 files place each layer's variables by class and position, which the config gives.
        KerasGraphBuilder b = new KerasGraphBuilder(file, weights.withKeras3Paths(cfg.keras3WeightPaths()), keras3);
        Model model = b.build(cfg);
        model.bind(backend, BIND_SEED);
        for (KerasGraphBuilder.PendingWeight w : b.pendingWeights()) {
            var p = w.parameter();
            if (w.values().length != p.shape().size())
                throw new IllegalStateException("internal: " + w.values().length + " values for parameter " + p.name() + " " + p.shape());
            backend.write(w.values(), 0, p.value(), 0, w.values().length);
        }
        return new KerasModel(model, b.layerOutputs(), file, format, version);
    }
}
