package dev.shears.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.core.data.Npy;
import dev.shears.io.keras.KerasFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code shears export --format keras}: {@code --out NAME.keras} writes a Keras 3 archive that
 * Shears reads back with the same predictions (checked through {@code shears predict} and
 * {@code shears inspect}); a name that is neither {@code .keras} nor {@code .h5}/{@code .hdf5}
 * is a usage error naming the accepted ones, and an input is never overwritten.
 */
class ExportKerasCliTest {
    @TempDir Path dir;
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path RES = Path.of("../model-import/src/test/resources").toAbsolutePath().normalize();
    static final Path MLP = RES.resolve("keras/examples/mnist_mlp");

    private Path input(Shape sample, int batch, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[batch * sample.intSize()];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        Path p = dir.resolve("input-" + seed + ".npy");
        Npy.write(p, sample.withBatch(batch), x);
        return p;
    }

    private float[] predict(Path in, String... model) throws Exception {
        Path out = Files.createTempFile(dir, "out", ".npy");
        String[] args = new String[model.length + 5];
        args[0] = "predict";
        System.arraycopy(model, 0, args, 1, model.length);
        args[model.length + 1] = "--input";
        args[model.length + 2] = in.toString();
        args[model.length + 3] = "--output";
        args[model.length + 4] = out.toString();
        CliRun r = shears(args);
        assertEquals(0, r.code(), r.err());
        return FloatArray.of(Npy.read(out)).data();
    }

    @Test
    void keras2ModelExportsToAKeras3ArchiveWithTheSamePredictions() throws Exception {
        Path config = MLP.resolve("mnist_mlp_tf_keras_2_config.json"), weights = MLP.resolve("mnist_mlp_tf_keras_2_weights.h5");
        Path out = dir.resolve("mlp.keras");
        CliRun r = shears("export", "--model", config.toString(), "--weights", weights.toString(), "--format", "keras", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Optional.of(KerasFormat.KERAS_ARCHIVE), KerasFormat.detect(out));

        Path in = input(Shape.of(784), 5, 1);
        assertArrayEquals(predict(in, "--model", config.toString(), "--weights", weights.toString()), predict(in, "--model", out.toString()));
        CliRun a = shears("inspect", "--model", config.toString(), "--weights", weights.toString(), "--json");
        CliRun b = shears("inspect", "--model", out.toString(), "--json");
        assertEquals(0, b.code(), b.err());
        assertEquals(JSON.readTree(a.out()).get("parameters"), JSON.readTree(b.out()).get("parameters"));
    }

    @Test
    void realKeras3FileExportsToKeras3AndToHdf5() throws Exception {
        Path src = RES.resolve("keras3/all_layers.keras");
        Path again = dir.resolve("again.keras"), h5 = dir.resolve("again.hdf5");
        for (Path out : List.of(again, h5)) {
            CliRun r = shears("export", "--model", src.toString(), "--format", "keras", "--out", out.toString());
            assertEquals(0, r.code(), r.err());
        }
        assertEquals(Optional.of(KerasFormat.KERAS_ARCHIVE), KerasFormat.detect(again));
        assertEquals(Optional.of(KerasFormat.HDF5_FULL_MODEL), KerasFormat.detect(h5));
        Path in = input(Shape.of(8, 8, 3), 3, 2);
        float[] want = predict(in, "--model", src.toString());
        assertArrayEquals(want, predict(in, "--model", again.toString()));
        assertArrayEquals(want, predict(in, "--model", h5.toString()));
    }

    /** Without --format the --out name says it (it was a required option even for m.onnx); a name that does not say is refused. */
    @Test
    void theFormatDefaultsToTheOutFilesExtension() throws Exception {
        Path src = RES.resolve("keras3/all_layers.keras");
        Path h5 = dir.resolve("by-name.H5"), onnx = dir.resolve("by-name.onnx"), bin = dir.resolve("by-name.bin");
        CliRun r = shears("export", "--model", src.toString(), "--out", h5.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(Optional.of(KerasFormat.HDF5_FULL_MODEL), KerasFormat.detect(h5));
        r = CliRun.shearsCapturingSystemErr("export", "--model", src.toString(), "--out", onnx.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("-> " + onnx + " (onnx)"), r.err());
        Path in = input(Shape.of(8, 8, 3), 3, 2);
        assertArrayEquals(predict(in, "--model", src.toString()), predict(in, "--model", onnx.toString()), 1e-5f);
        r = shears("export", "--model", src.toString(), "--out", bin.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out " + bin + ": the name does not say the format; give --format onnx or --format keras"), r.err());
        assertFalse(Files.exists(bin));
        // with --format, any name ONNX allows, as before
        assertEquals(0, shears("export", "--model", src.toString(), "--format", "onnx", "--out", bin.toString()).code());
    }

    @Test
    void unknownExtensionIsAUsageErrorNamingTheAcceptedOnes() {
        Path config = MLP.resolve("mnist_mlp_tf_keras_2_config.json"), weights = MLP.resolve("mnist_mlp_tf_keras_2_weights.h5");
        for (String name : List.of("model.zip", "model")) {
            Path out = dir.resolve(name);
            CliRun r = shears("export", "--model", config.toString(), "--weights", weights.toString(), "--format", "keras", "--out", out.toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(name.contains(".") ? "'.zip'" : "no extension"), r.err());
            assertTrue(r.err().contains(".keras") && r.err().contains(".h5") && r.err().contains(".hdf5"), r.err());
            assertFalse(Files.exists(out), "nothing written");
        }
    }

    @Test
    void refusesToWriteOverTheInputArchive() throws Exception {
        Path model = dir.resolve("model.keras");
        Files.copy(RES.resolve("keras3/mlp_sequential.keras"), model);
        byte[] before = Files.readAllBytes(model);
        CliRun r = shears("export", "--model", model.toString(), "--format", "keras", "--out", model.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is an input"), r.err());
        assertArrayEquals(before, Files.readAllBytes(model));
    }
}
