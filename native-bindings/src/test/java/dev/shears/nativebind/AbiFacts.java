package dev.shears.nativebind;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One distilled ABI facts file from {@code src/test/resources/abi/} (format in its README and in
 * {@code src/test/tools/extract-abi.py}): function prototypes as C types, the kind of each named
 * type, enumerator values, opaque struct sizes and cublas_v2.h's unversioned-name aliases.
 */
record AbiFacts(String resource, String header, Map<String, Function> functions, Map<String, String> kinds,
                Map<String, Enumerator> enumerators, Map<String, Long> largestStruct, Map<String, String> aliases) {

    record Function(String name, List<String> params, String returns) {}

    record Enumerator(String type, String name, long value) {}

    private static final Pattern FUNCTION = Pattern.compile("function (\\w+)\\((.*)\\) -> (.+)");
    private static final Pattern TYPE = Pattern.compile("type (\\w+) (\\w[\\w ]*)");
    private static final Pattern ENUM = Pattern.compile("enum (\\w+) (\\w+) = (-?\\d+)");
    private static final Pattern STRUCT = Pattern.compile("struct (\\w+) (\\d+) .+");
    private static final Pattern ALIAS = Pattern.compile("alias (\\w+) = (\\w+)");
    private static final Pattern HEADER = Pattern.compile("header (.+)");

    static AbiFacts load(String resource) {
        String text;
        try (InputStream in = AbiFacts.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("test resource " + resource + " is missing");
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
        String header = null;
        Map<String, Function> functions = new LinkedHashMap<>();
        Map<String, String> kinds = new LinkedHashMap<>();
        Map<String, Enumerator> enumerators = new LinkedHashMap<>();
        Map<String, Long> structs = new LinkedHashMap<>();
        Map<String, String> aliases = new LinkedHashMap<>();
        int lineNo = 0;
        for (String line : text.split("\n")) {
            lineNo++;
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            Matcher m;
            if ((m = FUNCTION.matcher(line)).matches()) {
                List<String> params = m.group(2).isBlank() ? List.of()
                        : Arrays.stream(m.group(2).split(",")).map(String::strip).toList();
                functions.put(m.group(1), new Function(m.group(1), params, m.group(3).strip()));
            } else if ((m = TYPE.matcher(line)).matches()) {
                kinds.put(m.group(1), m.group(2));
            } else if ((m = ENUM.matcher(line)).matches()) {
                enumerators.putIfAbsent(m.group(2), new Enumerator(m.group(1), m.group(2), Long.parseLong(m.group(3))));
            } else if ((m = STRUCT.matcher(line)).matches()) {
                structs.merge(m.group(1), Long.parseLong(m.group(2)), Math::max);
            } else if ((m = ALIAS.matcher(line)).matches()) {
                aliases.put(m.group(1), m.group(2));
            } else if ((m = HEADER.matcher(line)).matches()) {
                header = m.group(1);
            } else {
                throw new IllegalStateException(resource + " line " + lineNo + ": cannot read '" + line + "'");
            }
        }
        if (header == null) throw new IllegalStateException(resource + " has no 'header' line");
        return new AbiFacts(resource, header, functions, kinds, enumerators, structs, aliases);
    }

    /** The enumerators of one enum type, in header order. */
    List<Enumerator> enumeratorsOf(String type) {
        List<Enumerator> out = new ArrayList<>();
        for (Enumerator e : enumerators.values()) if (e.type().equals(type)) out.add(e);
        return out;
    }
}
