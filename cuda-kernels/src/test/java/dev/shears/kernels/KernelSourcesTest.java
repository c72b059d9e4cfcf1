package dev.shears.kernels;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The kernel sources' conventions, checked in every build (with or without nvcc). */
class KernelSourcesTest {
    static final Path CUDA = Path.of("src/main/cuda");
    static final Path JAVA = Path.of("src/main/java/dev/shears/kernels");
    private static final Pattern ENTRY = Pattern.compile("extern \"C\" __global__ void (?:__launch_bounds__\\(\\d+\\) )?(\\w+)\\(");
    private static final Pattern USE = Pattern.compile("rt\\.kernel\\(\"(\\w+)\"\\)");

    static Set<String> matches(Path dir, String suffix, Pattern p) throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(suffix)).toList()) {
                Matcher m = p.matcher(Files.readString(f));
                while (m.find()) out.add(m.group(1));
            }
        }
        return out;
    }

    static Set<String> kernelNamesUsedByLaunchers() throws IOException { return matches(JAVA, ".java", USE); }

    static Set<String> kernelEntries() throws IOException { return matches(CUDA, ".cu", ENTRY); }

    @Test
    void everyOperationFileIsCompiledIntoTheOneImage() throws IOException {
        String unity = Files.readString(CUDA.resolve("shears_kernels.cu"));
        try (Stream<Path> files = Files.list(CUDA)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".cu")).toList()) {
                String name = f.getFileName().toString();
                if (name.equals("shears_kernels.cu")) continue;
                assertTrue(unity.contains("#include \"" + name + "\""), name + " is not included by shears_kernels.cu");
            }
        }
    }

    @Test
    void everyOperationFileNamesItsCpuTwinFirst() throws IOException {
        try (Stream<Path> files = Files.list(CUDA)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".cu")).toList()) {
                if (f.getFileName().toString().equals("shears_kernels.cu")) continue;
                String head = Files.readString(f).lines().limit(12).reduce("", (a, b) -> a + "\n" + b);
                assertTrue(head.contains("CPU twin"), f + " does not name its CPU twin in its opening comment");
            }
        }
    }

    @Test
    void launchersNameOnlyKernelsThatExistAndEveryKernelHasALauncher() throws IOException {
        Set<String> used = kernelNamesUsedByLaunchers();
        Set<String> defined = kernelEntries();
        Set<String> missing = new TreeSet<>(used);
        missing.removeAll(defined);
        assertEquals(Set.of(), missing, "launchers name kernels no .cu file defines");
        Set<String> unused = new TreeSet<>(defined);
        unused.removeAll(used);
        assertEquals(Set.of(), unused, "kernels without a launcher");
        for (String name : defined) assertTrue(name.startsWith("shears_"), name + " lacks the shears_ prefix");
    }
}
