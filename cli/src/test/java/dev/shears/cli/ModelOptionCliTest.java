package dev.shears.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/** What {@code --model} says when it is given something other than a model file. */
class ModelOptionCliTest {
    @Test void anArchitectureWhereAFileIsNeededSaysHowToGetOne() {
        // inspect has no --data: the old message told the user to give one
        for (String[] args : new String[][]{{"inspect", "--model", "lenet-5"},
                {"export", "--model", "lenet-5", "--format", "onnx", "--out", "x.onnx"}}) {
            CliRun r = shears(args);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("--model lenet-5 is a built-in architecture") && r.err().contains("shears train --model lenet-5"), r.err());
            assertFalse(r.err().contains("needs --data"), r.err());
        }
    }

    @Test void aFolderIsNotAModelAndTheRunInsideIsPointedTo(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("p90"));
        CliRun r = shears("inspect", "--model", run.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is a folder, not a model file"), r.err());
        assertFalse(r.err().contains("the run saved there"), "no model.shears there yet: " + r.err());

        Files.writeString(run.resolve("model.shears"), "stand-in");
        r = shears("inspect", "--model", run.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("the run saved there is " + run.resolve("model.shears")), r.err());

        Path odd = Files.createDirectories(dir.resolve("model.onnx"));
        r = shears("inspect", "--model", odd.toString());
        assertTrue(r.err().contains("--model " + odd + " is a folder"), "a folder named like a file: " + r.err());
    }

    @Test void aModelThatDoesNotFitTheDataIsAUsageErrorNamingBothShapes(@TempDir Path dir) throws Exception {
        Path data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 64, 64);
        // a Linear layer of 10 inputs, and Fashion-MNIST's 1x28x28 images: an internal error (exit 1) after loading, before
        Path linear = OutputPathsCliTest.LINEAR.resolve("model.onnx");
        for (String[] args : new String[][]{{"eval", "--model", linear.toString(), "--data", data.toString(), "--backend", "cpu"},
                {"train", "--model", linear.toString(), "--data", data.toString(), "--epochs", "1", "--out", dir.resolve("o").toString(), "--backend", "cpu"}}) {
            CliRun r = shears(args);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("--model " + linear + " takes inputs of shape [10] (10 values), but the --data samples have shape [1, 28, 28] (784 values)"),
                    r.err());
        }
        assertFalse(Files.exists(dir.resolve("o/model.shears")));
    }

    @Test void aWeightsFolderIsNamedAsSuch(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("m.json");
        Files.writeString(config, "{}");
        CliRun r = shears("inspect", "--model", config.toString(), "--weights", dir.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--weights " + dir + " is a folder"), r.err());
    }
}
