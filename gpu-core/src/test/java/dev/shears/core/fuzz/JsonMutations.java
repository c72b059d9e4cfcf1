package dev.shears.core.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Structure-aware damage to a JSON (or YAML) document: random byte mutations mostly break the
 * syntax, so the reader's parser refuses them and the code after it is never exercised. These
 * keep the document well-formed and change one value: a number to 0, -1, the int limits or a
 * huge or non-finite value, a value to the wrong type, null, an empty array or object, or the
 * field (or array element) removed.
 */
public final class JsonMutations {
    private JsonMutations() {}

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** A value: its field name in an object (or index in an array) and its JSON pointer. */
    private record Site(String field, int index, String pointer) {}

    /**
     * {@code count} documents, each with one value of {@code document} replaced or removed.
     *
     * @param mapper parses the document and writes the damaged copies (JSON or YAML)
     */
    public static List<Corruption> mutations(byte[] document, ObjectMapper mapper, long rngSeed, int count) {
        JsonNode root;
        try {
            root = mapper.readTree(document);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Site> sites = new ArrayList<>();
        collect(root, "", sites);
        SplittableRandom r = Corruptions.random(rngSeed);
        List<Function<JsonNode, JsonNode>> replacements = List.of(
                old -> F.numberNode(0), old -> F.numberNode(-1), old -> F.numberNode(Integer.MAX_VALUE),
                old -> F.numberNode(Integer.MIN_VALUE), old -> F.numberNode(1L << 40), old -> F.numberNode(1e308),
                old -> F.textNode("NaN"), old -> F.textNode(""), old -> F.textNode("\u0000junk"), old -> F.nullNode(),
                old -> F.arrayNode(), old -> F.objectNode(), old -> F.booleanNode(true),
                old -> old.isNumber() ? F.numberNode(-old.asLong() - 1) : F.numberNode(3),
                old -> null); // null: remove the field or element
        List<Corruption> out = new ArrayList<>();
        if (sites.isEmpty()) return out;
        for (int i = 0; i < count; i++) {
            Site s = sites.get(r.nextInt(sites.size()));
            int which = r.nextInt(replacements.size());
            JsonNode copy = root.deepCopy();
            JsonNode parent = copy.at(pointerOf(s));
            JsonNode old = s.field != null ? parent.get(s.field) : parent.get(s.index);
            JsonNode replacement = replacements.get(which).apply(old);
            if (s.field != null) {
                if (replacement == null) ((ObjectNode) parent).remove(s.field);
                else ((ObjectNode) parent).set(s.field, replacement);
            } else {
                if (replacement == null) ((ArrayNode) parent).remove(s.index);
                else ((ArrayNode) parent).set(s.index, replacement);
            }
            try {
                out.add(new Corruption("json" + s.pointer.replace('/', '.') + "=" + (replacement == null ? "removed" : replacement.toString()),
                        mapper.writeValueAsBytes(copy)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** The pointer of a site's parent. */
    private static String pointerOf(Site s) {
        return s.pointer.substring(0, s.pointer.lastIndexOf('/'));
    }

    private static void collect(JsonNode node, String pointer, List<Site> sites) {
        if (node.isObject()) {
            for (var e : node.properties()) {
                String p = pointer + "/" + e.getKey().replace("~", "~0").replace("/", "~1");
                sites.add(new Site(e.getKey(), -1, p));
                collect(e.getValue(), p, sites);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String p = pointer + "/" + i;
                sites.add(new Site(null, i, p));
                collect(node.get(i), p, sites);
            }
        }
    }
}
