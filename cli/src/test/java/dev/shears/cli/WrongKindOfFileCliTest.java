package dev.shears.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A file option given the wrong kind of thing (a folder, a binary file) says what it got and
 * what to give, in one line: not "no such file" for a folder that exists, not the UTF-8
 * decoder's "Input length = 1" for a model given as --recipe.
 */
class WrongKindOfFileCliTest {
    static final Path LINEAR = OutputPathsCliTest.LINEAR;

    @Test void aFolderAsPredictInputIsCalledAFolder(@TempDir Path dir) throws Exception {
        Path folder = Files.createDirectories(dir.resolve("x.npy"));
        CliRun r = shears("predict", "--model", LINEAR.resolve("model.onnx").toString(), "--input", folder.toString(),
                "--output", dir.resolve("y.npy").toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        // a folder is read as images now: one without any says so
        assertTrue(r.err().contains(folder + ": the folder holds no images (bmp, gif, jpeg, jpg, png)"), r.err());
        assertFalse(r.err().contains("no such file"), r.err());
        assertFalse(Files.exists(dir.resolve("y.npy")));
    }

    @Test void aMissingImageAsPredictInputIsRefusedBeforeTheModelLoads(@TempDir Path dir) throws Exception {
        Path broken = Files.writeString(dir.resolve("model.shears"), "not a checkpoint"); // loading it would fail on the file
        Path missing = dir.resolve("cat.png");
        CliRun r = shears("predict", "--model", broken.toString(), "--input", missing.toString(),
                "--output", dir.resolve("y.npy").toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--input " + missing + ": no such file"), r.err());
        assertFalse(r.err().contains("checkpoint"), r.err());
    }

    @Test void aBinaryFileAsRecipeSaysItIsNotAYamlFile(@TempDir Path dir) throws Exception {
        Path model = LINEAR.resolve("model.onnx"); // protobuf: not UTF-8
        CliRun r = shears("recipes", model.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("recipe file " + model + " is not a YAML text file"), r.err());
        assertTrue(r.err().contains("gmp-tuned"), "points at a recipe to start from: " + r.err());
        assertFalse(r.err().contains("Input length"), r.err());
        assertFalse(r.err().contains("(cause:"), r.err());

        r = shears("prune", "--model", model.toString(), "--data", "fashion-mnist", "--recipe", model.toString(),
                "--out", dir.resolve("run").toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is not a YAML text file"), r.err());
        assertFalse(Files.exists(dir.resolve("run/model.shears")));
    }

    @Test void aWeightsOnlyHdf5AsModelSaysWhichFlagsToGive() {
        Path weights = Path.of("../model-import/src/test/resources/keras/examples/mnist_mlp/mnist_mlp_tf_keras_2_weights.h5").toAbsolutePath().normalize();
        CliRun r = shears("inspect", "--model", weights.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("give the model's config with it: --model CONFIG.json --weights " + weights), r.err());
    }

    @Test void aFolderAsRecipeIsCalledAFolder(@TempDir Path dir) {
        CliRun r = shears("recipes", dir + "/");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(" is a folder; give a YAML file or a built-in recipe name"), r.err());
    }
}
