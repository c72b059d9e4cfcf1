package dev.shears.io.fuzz;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.fuzz.Corruption;
import dev.shears.core.fuzz.CorruptionCampaign;
import dev.shears.core.fuzz.Corruptions;
import dev.shears.core.fuzz.JsonMutations;
import dev.shears.io.ImportException;
import dev.shears.io.keras.KerasImporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Seeded corruption campaign over every Keras file {@link KerasImporter#load} reads (what {@code
 * --model x.h5|x.keras|x.json --weights w.h5} calls): full-model HDF5, a config JSON with a
 * weights-only HDF5 (either one damaged), and Keras 3 {@code .keras} archives (damaged bytes, and
 * each entry dropped, halved, emptied or mutated inside an intact zip), and the config JSON (of a
 * .keras archive, or beside a weights file) one value at a time. Each damaged file loads
 * consistently or fails with an {@link ImportException} naming it.
 */
class KerasCorruptionTest {
    private static final Duration LIMIT = Duration.ofSeconds(4);
    /** HDF5 structure: end of the signature (8), of the version 0 superblock (56), root group symbol table (96). */
    private static final int[] HDF5_BOUNDS = {8, 24, 56, 96, 136, 800};
    private static final ObjectMapper JSON = new ObjectMapper();
    final Backend cpu = CpuBackend.create();

    private CorruptionCampaign campaign(Path dir, String ext, CorruptionCampaign.Loader loader) {
        return new CorruptionCampaign(dir, ext, loader, LoadedChecks::model, LIMIT, List.of(ImportException.class));
    }

    @Test
    void damagedFullModelHdf5LoadsOrFailsClearly(@TempDir Path dir) {
        long started = System.nanoTime();
        CorruptionCampaign c = campaign(dir, ".h5", f -> KerasImporter.load(f, Optional.empty(), cpu));
        long seed = 300;
        for (String m : List.of("keras/fullconfigs/cnn/cnn_batch_norm.h5", "keras/weights/dense_tensorflow_2.h5"))
            c.run(Path.of(m).getFileName().toString(), LoadedChecks.cases(LoadedChecks.bytes(m), seed++, HDF5_BOUNDS));
        System.out.println("Keras HDF5 campaign: " + c.summary() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        c.assertClean();
    }

    @Test
    void damagedConfigOrWeightsFileLoadsOrFailsClearly(@TempDir Path dir) {
        long started = System.nanoTime();
        Path config = LoadedChecks.resource("keras/examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json");
        Path weights = LoadedChecks.resource("keras/examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5");
        CorruptionCampaign damagedWeights = campaign(dir, ".h5", f -> KerasImporter.load(config, Optional.of(f), cpu));
        // 2.7 MB of weights: fewer cases than the small files, most of them still in the head (see Corruptions)
        var cases = new java.util.ArrayList<>(Corruptions.truncations(LoadedChecks.bytes(weights.toString().substring("src/test/resources/".length())),
                310, 20, HDF5_BOUNDS));
        cases.addAll(Corruptions.mutations(LoadedChecks.bytes("keras/examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5"), 311, 30));
        damagedWeights.run("mlp_weights", cases);
        CorruptionCampaign damagedConfig = campaign(dir, ".json", f -> KerasImporter.load(f, Optional.of(weights), cpu));
        byte[] configBytes = LoadedChecks.bytes("keras/examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json");
        damagedConfig.run("mlp_config", LoadedChecks.cases(configBytes, 312, 1, 2, 20));
        damagedConfig.run("mlp_config-values", JsonMutations.mutations(configBytes, JSON, 313, 80));
        System.out.println("Keras config+weights campaign: weights " + damagedWeights.summary() + "; config " + damagedConfig.summary()
                + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        damagedWeights.assertClean();
        damagedConfig.assertClean();
    }

    @Test
    void damagedKeras3ArchiveLoadsOrFailsClearly(@TempDir Path dir) {
        long started = System.nanoTime();
        CorruptionCampaign c = campaign(dir, ".keras", f -> KerasImporter.load(f, Optional.empty(), cpu));
        byte[] archive = LoadedChecks.bytes("keras3/mlp_sequential.keras");
        // zip structure: local header (30), the first entry's name, the central directory near the end
        c.run("mlp_sequential", LoadedChecks.cases(archive, 320, 4, 30, archive.length - 22, archive.length - 46));
        c.run("mlp_sequential-entries", Corruptions.zipEntries(archive, 321, 30));
        for (String seed : List.of("mlp_sequential", "all_layers")) {
            byte[] a = LoadedChecks.bytes("keras3/" + seed + ".keras");
            Map<String, byte[]> entries = Corruptions.unzip(a);
            List<Corruption> values = new ArrayList<>();
            for (Corruption j : JsonMutations.mutations(entries.get("config.json"), JSON, 322 + seed.length(), 80))
                values.add(new Corruption(j.name(), Corruptions.rezip(entries, "config.json", j.bytes())));
            c.run(seed + "-config", values);
        }
        System.out.println("Keras 3 archive campaign: " + c.summary() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        c.assertClean();
    }
}
