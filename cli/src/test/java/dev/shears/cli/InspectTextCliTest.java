package dev.shears.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** inspect's text header names the input as a reader would: "input 0 [10]", not "1 inputs [0[10]]". */
class InspectTextCliTest {
    @Test void oneInputIsNamedWithItsShape() {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = Shears.run(new String[]{"inspect", "--model", OutputPathsCliTest.LINEAR.resolve("model.onnx").toString()},
                new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        assertEquals(0, code, e.toString(StandardCharsets.UTF_8));
        String first = o.toString(StandardCharsets.UTF_8).lines().findFirst().orElseThrow();
        assertEquals("model.onnx: input 0 [10] -> output [8]", first); // PyTorch names the input "0"
    }
}
