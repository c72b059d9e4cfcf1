package dev.shears.nativebind;

import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.function.Function;

/**
 * How a C parameter or return type travels through a Panama downcall on the 64-bit Linux ABIs
 * (x86-64 System V, AArch64 AAPCS64; LP64): the Java carrier classes that pass it bit-for-bit.
 * Shared by the driver, cuBLAS, cuSPARSE and cuSPARSELt signature tests.
 *
 * <p>The rules: 32-bit integers and enums are {@code int}; 64-bit integers ({@code size_t},
 * {@code int64_t}, {@code long long}) are {@code long}; {@code float} and {@code double} are
 * themselves; opaque handle typedefs ({@code cublasHandle_t}, {@code cudaStream_t}, descriptors)
 * and pointers to named types are {@code MemorySegment}. A pointer to a primitive or to
 * {@code void} may also be a {@code long} when {@code dataPointersAsLong}: Shears passes device
 * addresses (which Java holds as {@code long}, like {@code CUdeviceptr}) that way, and a 64-bit
 * integer and a pointer go in the same register class, so the call is identical.
 */
final class CCarriers {
    private CCarriers() {}

    /**
     * @param cType              the C type as the header writes it, qualifiers and {@code *} included
     * @param kinds              a named type's kind: "enum", "pointer" (an opaque handle typedef),
     *                           "struct", or the primitive C type it aliases; null when unknown
     * @param dataPointersAsLong whether pointers to primitives / void may be carried as long
     * @param where              names the function and parameter for the failure message
     */
    static Set<Class<?>> of(String cType, Function<String, String> kinds, boolean dataPointersAsLong, String where) {
        String t = cType.replaceAll("/\\*.*?\\*/", "").replace("const ", "").replaceAll("\\s+", " ").trim();
        t = t.replaceAll("\\s*\\*", "*");
        if (t.endsWith("*")) {
            String pointee = t.substring(0, t.indexOf('*')).trim();
            boolean raw = pointee.equals("void") || primitive(pointee) != null
                    || (kinds.apply(pointee) != null && primitive(kinds.apply(pointee)) != null);
            return raw && dataPointersAsLong ? Set.of(MemorySegment.class, long.class) : Set.of(MemorySegment.class);
        }
        Class<?> p = primitive(t);
        if (p != null) return Set.of(p);
        String kind = kinds.apply(t);
        if (kind == null) throw new AssertionError(where + ": C type '" + t + "' is unknown to the facts (no typedef kind)");
        return switch (kind) {
            case "enum" -> Set.of(int.class); // C enums are int-sized on these ABIs
            case "pointer" -> Set.of(MemorySegment.class);
            case "struct" -> throw new AssertionError(where + ": struct '" + t + "' passed by value: the bindings never do that");
            default -> {
                Class<?> aliased = primitive(kind);
                if (aliased == null) throw new AssertionError(where + ": C type '" + t + "' has kind '" + kind + "' unknown to this test");
                yield Set.of(aliased);
            }
        };
    }

    /** The carrier of a primitive C type, or null when {@code t} is not one. */
    static Class<?> primitive(String t) {
        return switch (t) {
            case "int", "unsigned int", "unsigned", "int32_t", "uint32_t" -> int.class;
            case "size_t", "int64_t", "uint64_t", "long long", "long long int", "unsigned long long",
                 "unsigned long long int", "long", "long int", "unsigned long" -> long.class;
            case "short", "int16_t", "uint16_t", "unsigned short" -> short.class;
            case "char", "unsigned char", "int8_t", "uint8_t" -> byte.class;
            case "float" -> float.class;
            case "double" -> double.class;
            default -> null;
        };
    }
}
