package dev.shears.nativebind;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The hand-written driver bindings against the prototypes in the toolkit's cuda.h (present
 * wherever nvcc is: this machine and CI): every bound function's parameter carriers must be what
 * the C types pass as on x86-64 (pointers and handles as addresses, CUdeviceptr and size_t as
 * 64-bit, enums and CUdevice as 32-bit). A wrong descriptor would corrupt the call silently.
 */
class DriverSignatureTest {
    private static final Path HEADER = Path.of("/usr/local/cuda/include/cuda.h");
    private static final Pattern PROTO = Pattern.compile("CUresult CUDAAPI (\\w+)\\(([^;]*?)\\);", Pattern.DOTALL);

    /** The kinds of cuda.h's named types these bindings use (cuda.h typedefs; the rest is {@link CCarriers}). */
    private static final Map<String, String> KINDS = Map.ofEntries(
            Map.entry("CUdeviceptr", "unsigned long long"), Map.entry("CUdevice", "int"),
            Map.entry("CUdevice_attribute", "enum"), Map.entry("CUstreamCaptureMode", "enum"), Map.entry("CUresult", "enum"),
            Map.entry("CUstream", "pointer"), Map.entry("CUevent", "pointer"), Map.entry("CUcontext", "pointer"),
            Map.entry("CUmodule", "pointer"), Map.entry("CUfunction", "pointer"), Map.entry("CUgraph", "pointer"),
            Map.entry("CUgraphExec", "pointer"));

    /** The one carrier of a cuda.h parameter: host pointers are always addresses here (device ones are CUdeviceptr). */
    private static Class<?> carrier(String param, String function) {
        String p = param.replaceAll("/\\*.*?\\*/", "").replaceAll("\\s+", " ").trim();
        String type = p.contains("*") ? p.substring(0, p.lastIndexOf('*') + 1) : p.substring(0, p.lastIndexOf(' '));
        Set<Class<?>> carriers = CCarriers.of(type, KINDS::get, false, function);
        assertEquals(1, carriers.size(), function + ": " + type);
        return carriers.iterator().next();
    }

    @Test
    void everyDriverBindingMatchesItsPrototypeInCudaH() throws Exception {
        Assumptions.assumeTrue(Files.exists(HEADER), "no " + HEADER + " (the CUDA toolkit) to compare with");
        String header = Files.readString(HEADER);
        Class<?> holder = Class.forName(Cuda.class.getName() + "$H");
        int checked = 0;
        for (Field f : holder.getDeclaredFields()) {
            if (f.getType() != MethodHandle.class || !Modifier.isStatic(f.getModifiers())) continue;
            f.setAccessible(true);
            MethodType type = ((MethodHandle) f.get(null)).type();
            Matcher m = PROTO.matcher(header);
            boolean found = false;
            while (m.find()) {
                if (!m.group(1).equals(f.getName())) continue;
                List<Class<?>> expected = new ArrayList<>();
                String params = m.group(2).trim();
                if (!params.equals("void") && !params.isEmpty()) {
                    for (String p : params.split(",")) expected.add(carrier(p, f.getName()));
                }
                assertEquals(expected, type.parameterList(), f.getName() + " parameters");
                assertEquals(int.class, type.returnType(), f.getName() + " returns CUresult");
                found = true;
                checked++;
                break; // the first declaration is the current API (the legacy ones follow at the end)
            }
            assertTrue(found, f.getName() + " has no prototype in cuda.h");
        }
        assertTrue(checked >= 40, "checked only " + checked + " bindings");
    }
}
