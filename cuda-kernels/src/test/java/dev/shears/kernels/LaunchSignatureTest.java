package dev.shears.kernels;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * cuLaunchKernel trusts the caller: an argument list that does not match the kernel's parameters
 * launches garbage. This test reads every kernel's parameter list from src/main/cuda and every
 * launch's argument chain ({@code rt.args().ptr(..).i32(..)...} then {@code rt.launch(kernel ...)})
 * from the launchers, and checks count and kinds line up. Runs in every build, GPU or not.
 */
class LaunchSignatureTest {
    private static final Pattern ENTRY = Pattern.compile("extern \"C\" __global__ void (?:__launch_bounds__\\(\\d+\\) )?(\\w+)\\(([^)]*)\\)");
    private static final Pattern FIELD = Pattern.compile("this\\.(\\w+) = rt\\.kernel\\(\"(\\w+)\"\\)");
    private static final Pattern ARG = Pattern.compile("\\.(ptr|i32|i64|f32|f64|ints)\\(");
    private static final Pattern LAUNCH = Pattern.compile("rt\\.launch(?:1d|WarpRows)?\\((\\w+)");

    /** Parameter kinds of each kernel, in the launcher vocabulary. */
    static Map<String, List<String>> kernelSignatures() throws IOException {
        Map<String, List<String>> out = new HashMap<>();
        try (Stream<Path> files = Files.list(KernelSourcesTest.CUDA)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
                Matcher m = ENTRY.matcher(Files.readString(f));
                while (m.find()) {
                    List<String> kinds = new ArrayList<>();
                    for (String param : m.group(2).split(",")) kinds.add(kind(param.trim(), m.group(1)));
                    out.put(m.group(1), kinds);
                }
            }
        }
        return out;
    }

    private static String kind(String param, String kernel) {
        String p = param.replaceAll("\\s+", " ");
        if (p.contains("*")) return "ptr";
        String type = p.substring(0, p.lastIndexOf(' ')).replace("const ", "").trim();
        return switch (type) {
            case "int", "unsigned int" -> "i32";
            case "i64", "u64", "long long", "unsigned long long" -> "i64";
            case "float" -> "f32";
            case "double" -> "f64";
            case "WindowGeom", "PermuteAxes" -> "ints";
            default -> throw new AssertionError(kernel + ": parameter type '" + type + "' unknown to this test");
        };
    }

    /** A launcher's kernel fields, field name to kernel name, read from its source {@code src}. */
    private static Map<String, String> kernelFields(String src) {
        Map<String, String> fields = new HashMap<>();
        Matcher fm = FIELD.matcher(src);
        while (fm.find()) fields.put(fm.group(1), fm.group(2));
        return fields;
    }

    @Test
    void everyLaunchPassesTheKernelsParameterKindsInOrder() throws IOException {
        Map<String, List<String>> signatures = kernelSignatures();
        int checked = 0;
        try (Stream<Path> files = Files.list(KernelSourcesTest.JAVA)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f);
                Map<String, String> fields = kernelFields(src);
                int at = src.indexOf("rt.args()");
                while (at >= 0) {
                    int end = src.indexOf(';', at);
                    List<String> passed = new ArrayList<>();
                    Matcher am = ARG.matcher(src.substring(at, end));
                    while (am.find()) passed.add(am.group(1));
                    int next = src.indexOf("rt.args()", end);
                    String launches = src.substring(end, next < 0 ? src.length() : next);
                    Matcher lm = LAUNCH.matcher(launches);
                    boolean any = false;
                    while (lm.find()) {
                        String kernel = fields.get(lm.group(1));
                        assertNotNull(kernel, f.getFileName() + ": launch of unknown kernel field " + lm.group(1));
                        assertEquals(signatures.get(kernel), passed, f.getFileName() + ": arguments of " + kernel);
                        any = true;
                        checked++;
                    }
                    assertTrue(any, f.getFileName() + ": arguments set at offset " + at + " but no launch follows");
                    at = next;
                }
            }
        }
        assertTrue(checked >= signatures.size(), "checked " + checked + " launches for " + signatures.size() + " kernels");
    }

    private static final Pattern BLOCK = Pattern.compile("rt\\.launch\\((\\w+), [^;]*, (\\d+), [^;,]+\\);");
    private static final Pattern BOUNDS = Pattern.compile("extern \"C\" __global__ void __launch_bounds__\\((\\d+)\\) (\\w+)\\(");

    /**
     * A kernel launched with more than 256 threads a block declares {@code __launch_bounds__} of at
     * least that many. Without it nvcc may give a thread up to 255 registers, and a block needs
     * threads x registers of the SM's 64K: at 1024 threads, more than 64 registers a thread and the
     * launch fails with CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES (CUDA C++ Programming Guide, "Launch
     * Bounds"; compute capability tables: 64K 32-bit registers per SM and per block). Today's SASS
     * stays under 64 (nvcc --resource-usage: 32 and 30), but the driver JIT-compiles the fatbin's
     * compute_90 PTX for GPUs newer than sm_90 with its own register choice, which only the bound
     * constrains. The launchers' literal block sizes are read from their source.
     */
    @Test
    void kernelsLaunchedWithLargeBlocksDeclareLaunchBounds() throws IOException {
        Map<String, Integer> bounds = new HashMap<>();
        try (Stream<Path> files = Files.list(KernelSourcesTest.CUDA)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
                Matcher m = BOUNDS.matcher(Files.readString(f));
                while (m.find()) bounds.put(m.group(2), Integer.parseInt(m.group(1)));
            }
        }
        int large = 0;
        try (Stream<Path> files = Files.list(KernelSourcesTest.JAVA)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f);
                Map<String, String> fields = kernelFields(src);
                Matcher lm = BLOCK.matcher(src);
                while (lm.find()) {
                    int block = Integer.parseInt(lm.group(2));
                    if (block <= KernelRuntime.BLOCK) continue;
                    String kernel = fields.get(lm.group(1));
                    assertNotNull(kernel, f.getFileName() + ": launch of unknown kernel field " + lm.group(1));
                    Integer bound = bounds.get(kernel);
                    assertNotNull(bound, kernel + " is launched with " + block + " threads a block (" + f.getFileName()
                            + ") but declares no __launch_bounds__: write extern \"C\" __global__ void __launch_bounds__(" + block + ") " + kernel + "(");
                    assertTrue(bound >= block, kernel + ": __launch_bounds__(" + bound + ") below its launch's " + block + " threads");
                    large++;
                }
            }
        }
        assertTrue(large >= 2, "expected the two 1024-thread launches (threshold select, tie scan), found " + large);
    }
}
