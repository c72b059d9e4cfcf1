package dev.shears.io.onnx;

import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.AttributeProto;
import dev.shears.io.onnx.proto.NodeProto;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Typed access to a node's attributes with ONNX defaults, failing with the node and attribute
 * named. Tolerates files written before IR version 2 that omit {@code AttributeProto.type} by
 * looking at which value field is set.
 */
final class Attributes {
    private final Map<String, AttributeProto> byName = new HashMap<>();
    private final Path file;
    private final String node;

    Attributes(NodeProto n, Path file, String node) {
        for (AttributeProto a : n.getAttributeList()) byName.put(a.getName(), a);
        this.file = file;
        this.node = node;
    }

    boolean has(String name) { return byName.containsKey(name); }

    long getInt(String name, long def) {
        AttributeProto a = byName.get(name);
        if (a == null) return def;
        if (!a.hasI()) throw wrongType(name, "INT", a);
        return a.getI();
    }

    int getIntExact(String name, int def) {
        long v = getInt(name, def);
        if (v != (int) v) throw new ImportException("attribute '" + name + "' = " + v + " is out of range", file, node);
        return (int) v;
    }

    float getFloat(String name, float def) {
        AttributeProto a = byName.get(name);
        if (a == null) return def;
        if (!a.hasF()) throw wrongType(name, "FLOAT", a);
        return a.getF();
    }

    String getString(String name, String def) {
        AttributeProto a = byName.get(name);
        if (a == null) return def;
        if (!a.hasS()) throw wrongType(name, "STRING", a);
        return a.getS().toString(StandardCharsets.UTF_8);
    }

    /** An INTS attribute, or {@code def} (may be null) when absent. */
    long[] getInts(String name, long[] def) {
        AttributeProto a = byName.get(name);
        if (a == null) return def;
        if (a.getType() != AttributeProto.AttributeType.INTS && a.getIntsCount() == 0 && a.hasType())
            throw wrongType(name, "INTS", a);
        long[] v = new long[a.getIntsCount()];
        for (int i = 0; i < v.length; i++) v[i] = a.getInts(i);
        return v;
    }

    float[] getFloats(String name, float[] def) {
        AttributeProto a = byName.get(name);
        if (a == null) return def;
        float[] v = new float[a.getFloatsCount()];
        for (int i = 0; i < v.length; i++) v[i] = a.getFloats(i);
        return v;
    }

    AttributeProto get(String name) { return byName.get(name); }

    private ImportException wrongType(String name, String expected, AttributeProto a) {
        return new ImportException("attribute '" + name + "' should be " + expected + ", the file has " + a.getType(), file, node);
    }
}
