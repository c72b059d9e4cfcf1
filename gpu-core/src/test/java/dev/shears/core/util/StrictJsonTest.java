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
}
