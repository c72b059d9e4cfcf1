package dev.shears.cli;

import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * predict takes the model's sample shape with or without a batch first, but not the same values
 * in another layout: an NHWC image into an NCHW model ran scrambled, without an error.
 */
class PredictInputShapeTest {
    static final Path IN = Path.of("x.npy");

    @Test void theModelsLayoutWithOrWithoutABatch() {
        Shape chw = Shape.of(3, 7, 5);
        assertEquals(1, PredictCommand.batchOf(Shape.of(3, 7, 5), chw, IN));
        assertEquals(4, PredictCommand.batchOf(Shape.of(4, 3, 7, 5), chw, IN));
        assertEquals(1, PredictCommand.batchOf(Shape.of(1, 3, 7, 5), chw, IN));
        // dimensions of 1 come and go: a grayscale [N, 28, 28] or [N, 28, 28, 1] is a [1, 28, 28] batch
        assertEquals(6, PredictCommand.batchOf(Shape.of(6, 28, 28), Shape.of(1, 28, 28), IN));
        assertEquals(6, PredictCommand.batchOf(Shape.of(6, 28, 28, 1), Shape.of(1, 28, 28), IN));
        // a flat model takes any sample of its size
        assertEquals(5, PredictCommand.batchOf(Shape.of(5, 28, 28), Shape.of(784), IN));
        assertEquals(1, PredictCommand.batchOf(Shape.of(784), Shape.of(784), IN));
    }

    @Test void anotherLayoutOfTheSameValuesIsRefused() {
        UserError e = assertThrows(UserError.class, () -> PredictCommand.batchOf(Shape.of(2, 7, 5, 3), Shape.of(3, 7, 5), IN));
        assertTrue(e.getMessage().contains("--input x.npy has shape [2, 7, 5, 3]") && e.getMessage().contains("[N, 3, 7, 5]"), e.getMessage());
        assertTrue(e.getMessage().contains("transpose"), e.getMessage());
        UserError size = assertThrows(UserError.class, () -> PredictCommand.batchOf(Shape.of(4, 100), Shape.of(784), IN));
        assertTrue(size.getMessage().contains("not a batch of the model's input [784]"), size.getMessage());
    }

    @Test void theCommandRefusesAChannelsLastImageForAChannelsFirstConv(@TempDir Path dir) throws Exception {
        Path conv = Path.of("../model-import/src/test/resources/onnx/pytorch-converted/test_Conv2d").toAbsolutePath().normalize();
        Path nhwc = dir.resolve("nhwc.npy");
        dev.shears.core.data.Npy.write(nhwc, Shape.of(1, 7, 5, 3), new float[105]);
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = Shears.run(new String[]{"predict", "--model", conv.resolve("model.onnx").toString(), "--input", nhwc.toString(),
                        "--output", dir.resolve("y.npy").toString(), "--backend", "cpu"},
                new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        String err = e.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, err);
        assertTrue(err.contains("reorder its axes"), err);
        assertFalse(dir.resolve("y.npy").toFile().exists());
    }
}
