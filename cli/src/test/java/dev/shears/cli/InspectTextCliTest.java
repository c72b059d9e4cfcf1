package dev.shears.cli;

import org.junit.jupiter.api.Test;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/** inspect's text header names the input as a reader would: "input 0 [10]", not "1 inputs [0[10]]". */
class InspectTextCliTest {
    @Test void oneInputIsNamedWithItsShape() {
        CliRun r = shears("inspect", "--model", OutputPathsCliTest.LINEAR.resolve("model.onnx").toString());
        assertEquals(0, r.code(), r.err());
        String first = r.out().lines().findFirst().orElseThrow();
        assertEquals("model.onnx: input 0 [10] -> output [8]", first); // PyTorch names the input "0"
    }
}
