package dev.shears.nativebind;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every enum value and status code the Java bindings hard-code, against the values in the headers:
 * the distilled facts in {@code src/test/resources/abi/} in every build, and the toolkit's own
 * library_types.h and cuda.h where they are installed (this machine and CI). A wrong number here
 * selects another data type, algorithm or layout on the GPU without any error.
 */
class LibraryConstantsTest {
    private static final Path CUDA_INCLUDE = Path.of("/usr/local/cuda/include");
    private static final AbiFacts CUBLAS = AbiFacts.load("abi/cublas-12.4.txt");
    private static final AbiFacts CUSPARSE = AbiFacts.load("abi/cusparse-12.4.txt");
    private static final AbiFacts CUSPARSELT = AbiFacts.load("abi/cusparselt.txt");
    private static final AbiFacts LIBRARY_TYPES = AbiFacts.load("abi/library_types-12.4.txt");

    /** int constants that are not C enum values, with what checks them instead */
    private static final Set<String> NOT_ENUMS = Set.of(
            "CusparseLt.MIN_VERSION"); // a cusparseLtGetVersion number (600 = 0.6.0), see CusparseLtBindingTest

    @Test
    void everyIntConstantOfTheBindingsHasTheHeadersValue() throws Exception {
        List<String> failures = new ArrayList<>();
        int checked = 0;
        checked += checkFields(Cublas.class, List.of(CUBLAS, LIBRARY_TYPES), failures);
        checked += checkFields(Cusparse.class, List.of(CUSPARSE, LIBRARY_TYPES), failures);
        checked += checkFields(CusparseLt.class, List.of(CUSPARSELT, CUSPARSE, LIBRARY_TYPES), failures);
        checked += checkFields(StatusNames.class, List.of(CUBLAS, CUSPARSE), failures);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertTrue(checked >= 39, "checked only " + checked + " constants");
    }

    /** Checks each public static final int of {@code type}; CUDA_ERROR_* (cuda.h) are left to the driver test below. */
    private static int checkFields(Class<?> type, List<AbiFacts> facts, List<String> failures) throws IllegalAccessException {
        int checked = 0;
        for (Field f : type.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (f.getType() != int.class || !Modifier.isStatic(mod) || !Modifier.isFinal(mod) || !Modifier.isPublic(mod)) continue;
            String where = type.getSimpleName() + "." + f.getName();
            if (NOT_ENUMS.contains(where) || f.getName().startsWith("CUDA_ERROR_")) continue;
            AbiFacts.Enumerator e = find(f.getName(), facts);
            if (e == null) {
                failures.add(where + " is in none of " + facts.stream().map(AbiFacts::resource).toList()
                        + ": misspelt, or regenerate the facts (src/test/resources/abi/README.md)");
                continue;
            }
            int value = f.getInt(null);
            if (value != e.value())
                failures.add(where + " = " + value + " but " + e.type() + " " + e.name() + " = " + e.value() + " in " + headerOf(e, facts));
            checked++;
        }
        return checked;
    }

    private static AbiFacts.Enumerator find(String name, List<AbiFacts> facts) {
        for (AbiFacts a : facts) {
            AbiFacts.Enumerator e = a.enumerators().get(name);
            if (e != null) return e;
        }
        return null;
    }

    private static String headerOf(AbiFacts.Enumerator e, List<AbiFacts> facts) {
        for (AbiFacts a : facts) if (a.enumerators().get(e.name()) == e) return a.header();
        return "?";
    }

    @Test
    void statusNameTablesMatchTheStatusEnumsEntryForEntry() throws Exception {
        assertTableIsTheEnum("CUBLAS", CUBLAS, "cublasStatus_t");
        assertTableIsTheEnum("CUSPARSE", CUSPARSE, "cusparseStatus_t");
    }

    private static void assertTableIsTheEnum(String field, AbiFacts facts, String enumType) throws Exception {
        Map<Integer, String> table = new TreeMap<>(table(field));
        Map<Integer, String> expected = new TreeMap<>();
        for (AbiFacts.Enumerator e : facts.enumeratorsOf(enumType)) expected.put((int) e.value(), e.name());
        assertFalse(expected.isEmpty(), facts.resource() + " has no " + enumType);
        assertEquals(expected, table, "StatusNames." + field + " against " + enumType + " in " + facts.header());
    }

    @SuppressWarnings("unchecked")
    private static Map<Integer, String> table(String field) throws ReflectiveOperationException {
        Field f = StatusNames.class.getDeclaredField(field);
        f.setAccessible(true);
        return (Map<Integer, String>) f.get(null);
    }

    @Test
    void driverStatusTableAndConstantsMatchTheInstalledCudaH() throws Exception {
        Path header = CUDA_INCLUDE.resolve("cuda.h");
        Assumptions.assumeTrue(Files.exists(header), "no " + header + " (the CUDA toolkit) to compare with");
        Map<String, Long> cuResult = enumValues(header, "CUDA_(?:SUCCESS|ERROR_\\w+)");
        List<String> failures = new ArrayList<>();
        for (Map.Entry<Integer, String> e : table("DRIVER").entrySet()) {
            Long v = cuResult.get(e.getValue());
            if (v == null || v != (long) e.getKey())
                failures.add("StatusNames.DRIVER maps " + e.getKey() + " to " + e.getValue() + " but cuda.h has " + e.getValue() + " = " + v);
        }
        for (Field f : StatusNames.class.getDeclaredFields()) {
            if (!f.getName().startsWith("CUDA_ERROR_")) continue;
            Long v = cuResult.get(f.getName());
            if (v == null || v != (long) f.getInt(null))
                failures.add("StatusNames." + f.getName() + " = " + f.getInt(null) + " but cuda.h has " + v);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void dataTypeConstantsMatchTheInstalledLibraryTypesH() throws Exception {
        Path header = CUDA_INCLUDE.resolve("library_types.h");
        Assumptions.assumeTrue(Files.exists(header), "no " + header + " (the CUDA toolkit) to compare with");
        Map<String, Long> live = enumValues(header, "CUDA_[RC]_\\w+");
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (Class<?> type : List.of(Cublas.class, Cusparse.class, CusparseLt.class)) {
            for (Field f : type.getDeclaredFields()) {
                if (!f.getName().matches("CUDA_[RC]_\\w+")) continue;
                Long v = live.get(f.getName());
                if (v == null || v != (long) f.getInt(null))
                    failures.add(type.getSimpleName() + "." + f.getName() + " = " + f.getInt(null) + " but " + header + " has " + v);
                checked++;
            }
        }
        // the committed 12.4 facts agree with the installed toolkit on every value both declare
        for (AbiFacts.Enumerator e : LIBRARY_TYPES.enumerators().values()) {
            Long v = live.get(e.name());
            if (v != null && v != e.value()) failures.add(e.name() + " = " + e.value() + " in CUDA 12.4 but " + v + " in " + header);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertTrue(checked >= 8, "checked only " + checked + " data-type constants");
    }

    @Test
    void opaqueCusparseLtStructsFitInWhatTheBindingsAllocate() {
        long handle = CUSPARSELT.largestStruct().get("cusparseLtHandle_t");
        assertTrue(CusparseLt.HANDLE_BYTES >= handle,
                "CusparseLt.HANDLE_BYTES " + CusparseLt.HANDLE_BYTES + " < cusparseLtHandle_t " + handle + " bytes");
        for (String s : List.of("cusparseLtMatDescriptor_t", "cusparseLtMatmulDescriptor_t", "cusparseLtMatmulAlgSelection_t",
                "cusparseLtMatmulPlan_t")) {
            long bytes = CUSPARSELT.largestStruct().get(s);
            assertTrue(CusparseLt.OPAQUE_BYTES >= bytes, "CusparseLt.OPAQUE_BYTES " + CusparseLt.OPAQUE_BYTES + " < " + s + " " + bytes + " bytes");
        }
    }

    /** NAME = value pairs of the enumerators matching {@code namePattern} (decimal values; what these headers use). */
    private static Map<String, Long> enumValues(Path header, String namePattern) throws IOException {
        String text = Files.readString(header).replaceAll("/\\*.*?\\*/", " ");
        Matcher m = Pattern.compile("\\b(" + namePattern + ")\\s*=\\s*(-?\\d+)\\s*[,}]").matcher(text);
        Map<String, Long> out = new HashMap<>();
        while (m.find()) out.putIfAbsent(m.group(1), Long.parseLong(m.group(2)));
        return out;
    }
}
