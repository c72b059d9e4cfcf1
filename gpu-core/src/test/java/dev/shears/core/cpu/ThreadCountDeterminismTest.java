package dev.shears.core.cpu;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CPU training step gives the same bits whatever {@code -Dshears.threads} is: every parallel
 * kernel (the per-image weight-gradient products, im2col/col2im over (image, channel) pairs,
 * max pooling over planes, Sgemm's row blocks and slabs, the direct depthwise convolution over planes and channels; mobilenet-v2-mini also covers BatchNorm, ReLU6 and Add;
 * the broadcasting Add and Multiply their per-channel sums) splits work so that each result is
 * summed in one fixed order. The pool's size is fixed per JVM, so each count runs in a child JVM.
 */
class ThreadCountDeterminismTest {

    private static String run(int threads) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dshears.threads=" + threads, "-cp", System.getProperty("java.class.path"),
                ThreadCountStepMain.class.getName(), "lenet-5", "mnist-cnn", "mobilenet-v2-mini")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child with " + threads + " threads exits");
            assertEquals(0, p.exitValue(), "the child with " + threads + " threads failed; its output:\n" + out);
            List<String> lines = out.lines().toList();
            assertEquals("threads " + threads, lines.getFirst(), "the child's pool size");
            return String.join("\n", lines.subList(1, lines.size()));
        } finally {
            p.destroyForcibly();
        }
    }

    @Test void aStepIsTheSameOnOneTwoAndThreeThreads() throws Exception {
        String one = run(1);
        assertEquals(5, one.lines().count(), one); // three models, dotGemm and channelBroadcast
        assertEquals(one, run(2), "2 threads against 1");
        assertEquals(one, run(3), "3 threads against 1");
    }
}
