package dev.shears.core.util;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Only an integral JSON number in range is an integer; anything else names the path and the value. */
class StrictJsonTest {
    private static JsonNode json(String text) throws Exception {
        return new ObjectMapper().readTree(text);
    }

    @Test
    void integersInRangeAreRead() throws Exception {
        JsonNode o = json("{\"a\": 7, \"b\": -2147483648, \"big\": 9007199254740993, \"list\": [1, 0, -3]}");
        assertEquals(7, StrictJson.intField(o, "", "a"));
        assertEquals(Integer.MIN_VALUE, StrictJson.intField(o, "x", "b"));
        assertEquals(9007199254740993L, StrictJson.longField(o, "", "big"));
        assertArrayEquals(new int[]{1, 0, -3}, StrictJson.toInts(o.get("list"), "list"));
    }

    @Test
    void whatAsIntWouldReadAsAnotherNumberIsRefusedWithPathAndValue() throws Exception {
        JsonNode o = json("{\"cfg\": {\"text\": \"x\", \"digits\": \"12\", \"frac\": 3.7, \"whole\": 3.0, \"huge\": 1e308,"
                + " \"over\": 2147483648, \"null\": null, \"list\": [1, \"two\"]}}");
        String[][] cases = {{"text", "'cfg.text' is \"x\""}, {"digits", "'cfg.digits' is \"12\""}, {"frac", "'cfg.frac' is 3.7"},
                {"whole", "'cfg.whole' is 3.0"}, {"huge", "'cfg.huge' is 1.0E308"}, {"over", "'cfg.over' is 2147483648"},
                {"null", "'cfg.null' is null"}, {"absent", "'cfg.absent' is missing"}};
        for (String[] c : cases) {
            var e = assertThrows(StrictJson.BadField.class, () -> StrictJson.intField(o.get("cfg"), "cfg", c[0]), c[0]);
            assertEquals(c[1] + ", expected an integer", e.getMessage());
            assertEquals("cfg." + c[0], e.path());
        }
        var e = assertThrows(StrictJson.BadField.class, () -> StrictJson.toInts(o.get("cfg").get("list"), "cfg.list"));
        assertEquals("'cfg.list[1]' is \"two\", expected an integer", e.getMessage());
        assertEquals("\"two\"", e.value());
        assertThrows(StrictJson.BadField.class, () -> StrictJson.longField(o.get("cfg"), "cfg", "frac"));
    }

    /** asBoolean() read "yes", "true", 1 and an object as false (or true for 1): only JSON true/false is a boolean. */
    @Test
    void onlyJsonTrueOrFalseIsABoolean() throws Exception {
        JsonNode o = json("{\"t\": true, \"f\": false, \"yes\": \"yes\", \"text\": \"true\", \"one\": 1, \"obj\": {}, \"null\": null}");
        assertTrue(StrictJson.booleanField(o, "", "t"));
        assertFalse(StrictJson.booleanField(o, "cfg", "f"));
        String[][] cases = {{"yes", "\"yes\""}, {"text", "\"true\""}, {"one", "1"}, {"obj", "{}"}, {"null", "null"}, {"absent", "missing"}};
        for (String[] c : cases) {
            var e = assertThrows(StrictJson.BadField.class, () -> StrictJson.booleanField(o, "cfg", c[0]), c[0]);
            assertEquals("'cfg." + c[0] + "' is " + c[1] + ", expected true or false", e.getMessage());
            assertEquals("true or false", e.expected());
        }
        assertTrue(StrictJson.booleanFieldOr(o, "", "absent", true));
        assertTrue(StrictJson.booleanFieldOr(o, "", "null", true));
        assertFalse(StrictJson.booleanFieldOr(o, "", "f", true));
        assertThrows(StrictJson.BadField.class, () -> StrictJson.booleanFieldOr(o, "", "yes", true));
    }

    /** asDouble() read "0.9" as 0.9 but "x" as 0.0 and an object as 0.0: only a JSON number is a number. */
    @Test
    void onlyAJsonNumberIsANumber() throws Exception {
        JsonNode o = json("{\"m\": 0.99, \"i\": 3, \"e\": 1e-3, \"text\": \"0.9\", \"x\": \"x\", \"flag\": true, \"list\": [1],"
                + " \"huge\": 1e39}");
        assertEquals(0.99, StrictJson.toDouble(o.get("m"), "m"));
        assertEquals(3.0, StrictJson.toDouble(o.get("i"), "i"));
        assertEquals(0.99f, StrictJson.floatField(o, "", "m"));
        assertEquals(1e-3f, StrictJson.floatField(o, "", "e"));
        assertEquals(1e39, StrictJson.toDouble(o.get("huge"), "huge"));
        String[][] cases = {{"text", "\"0.9\""}, {"x", "\"x\""}, {"flag", "true"}, {"list", "[1]"}, {"absent", "missing"}};
        for (String[] c : cases) {
            var e = assertThrows(StrictJson.BadField.class, () -> StrictJson.toDouble(o.get(c[0]), "config." + c[0]), c[0]);
            assertEquals("'config." + c[0] + "' is " + c[1] + ", expected a number", e.getMessage());
            assertThrows(StrictJson.BadField.class, () -> StrictJson.floatField(o, "config", c[0]), c[0]);
        }
        var e = assertThrows(StrictJson.BadField.class, () -> StrictJson.floatField(o, "config", "huge"));
        assertEquals("'config.huge' is 1.0E39, expected a number within float range", e.getMessage());
    }

    /** asText() turned 7, true and {"a": 1} into text: only a JSON string is a string. */
    @Test
    void onlyAJsonStringIsAString() throws Exception {
        JsonNode o = json("{\"s\": \"relu\", \"n\": 7, \"b\": true, \"obj\": {\"a\": 1}, \"null\": null}");
        assertEquals("relu", StrictJson.textField(o, "", "s"));
        String[][] cases = {{"n", "7"}, {"b", "true"}, {"obj", "{\"a\":1}"}, {"null", "null"}, {"absent", "missing"}};
        for (String[] c : cases) {
            var e = assertThrows(StrictJson.BadField.class, () -> StrictJson.textField(o, "layers[2]", c[0]), c[0]);
            assertEquals("'layers[2]." + c[0] + "' is " + c[1] + ", expected a string", e.getMessage());
        }
        assertEquals("dflt", StrictJson.textFieldOr(o, "", "absent", "dflt"));
        assertEquals("dflt", StrictJson.textFieldOr(o, "", "null", "dflt"));
        assertThrows(StrictJson.BadField.class, () -> StrictJson.textFieldOr(o, "", "n", "dflt"));
    }
}
