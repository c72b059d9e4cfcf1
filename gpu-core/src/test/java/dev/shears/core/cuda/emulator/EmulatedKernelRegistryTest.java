package dev.shears.core.cuda.emulator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The emulator's kernel registry is generated from the sources and refuses kernels it could not register. */
class EmulatedKernelRegistryTest {

    @Test
    void everyKernelOfTheSourcesIsRegistered() throws IOException {
        String src = System.getProperty(CudaEmulator.SOURCES_PROPERTY);
        org.junit.jupiter.api.Assumptions.assumeTrue(src != null, "-D" + CudaEmulator.SOURCES_PROPERTY + " not set");
        Path cuda = Path.of(src, "main", "cuda");
        String list = CudaEmulator.kernelList(cuda);
        long globals = 0;
        try (var files = Files.list(cuda)) {
            for (Path f : files.toList()) {
                String text = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
                globals += text.split("__global__", -1).length - 1;
            }
        }
        assertEquals(globals, list.lines().filter(l -> l.startsWith("SHEARS_KERNEL(")).count(), list);
        for (String name : new String[] {"shears_threshold_histogram", "shears_mask_apply_ties", "shears_adam_update",
                "shears_mask_update_nm", "shears_col2im"}) {
            assertTrue(list.contains("SHEARS_KERNEL(" + name + ")"), name + " missing from\n" + list);
        }
    }

    @Test
    void aKernelInAnotherFormIsRefusedWithItsFile(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("good.cu"), "extern \"C\" __global__ void shears_good(float* x) {}\n"
                + "// extern \"C\" __global__ void shears_commented_out(float* x) {}\n");
        assertTrue(CudaEmulator.kernelList(dir).contains("SHEARS_KERNEL(shears_good)"));
        assertFalse(CudaEmulator.kernelList(dir).contains("shears_commented_out"));
        Files.writeString(dir.resolve("bad.cu"), "__global__ void shears_bad(float* x) {}\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaEmulator.kernelList(dir));
        assertTrue(e.getMessage().contains("bad.cu") && e.getMessage().contains("extern \"C\" __global__ void NAME("), e.getMessage());
    }
}
