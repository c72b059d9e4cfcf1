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
    private static final Pattern ENTRY = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)");
    private static final Pattern FIELD = Pattern.compile("this\\.(\\w+) = rt\\.kernel\\(\"(\\w+)\"\\)");
    private static final Pattern ARG = Pattern.compile("\\.(ptr|i32|i64|f32|f64|ints)\\(");
    private static final Pattern LAUNCH = Pattern.compile("rt\\.launch(?:1d)?\\((\\w+)");

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

    @Test
    void everyLaunchPassesTheKernelsParameterKindsInOrder() throws IOException {
        Map<String, List<String>> signatures = kernelSignatures();
        int checked = 0;
        try (Stream<Path> files = Files.list(KernelSourcesTest.JAVA)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f);
                Map<String, String> fields = new HashMap<>();
                Matcher fm = FIELD.matcher(src);
                while (fm.find()) fields.put(fm.group(1), fm.group(2));
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
}
