package dev.shears.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How a --params value splits into patterns: commas separate, except inside a regex's brackets. */
class PatternListTest {
    @Test void theOldCommaFormStillListsNames() {
        assertEquals(List.of("fc1/kernel", "fc2/kernel"), PatternList.split("fc1/kernel,fc2/kernel"));
        assertEquals(List.of("fc1/kernel"), PatternList.split("fc1/kernel"));
        assertEquals(List.of("a", "", "b"), PatternList.split("a,,b"), "an empty piece stays, for the caller to refuse");
    }

    @Test void aQuantifiersCommaStaysInItsPattern() {
        assertEquals(List.of("fc{2,3}/kernel"), PatternList.split("fc{2,3}/kernel"));
        assertEquals(List.of("conv\\d{1,2}/kernel", "fc1/kernel"), PatternList.split("conv\\d{1,2}/kernel,fc1/kernel"));
        assertEquals(List.of("(fc1|fc2){1,}/kernel", "x"), PatternList.split("(fc1|fc2){1,}/kernel,x"));
    }

    @Test void classesGroupsAndEscapesHoldTheirCommas() {
        assertEquals(List.of("a[,)]b", "c"), PatternList.split("a[,)]b,c"), "a ) inside a class closes nothing");
        assertEquals(List.of("(a,b)", "c"), PatternList.split("(a,b),c"));
        assertEquals(List.of("a\\,b"), PatternList.split("a\\,b"));
        assertEquals(List.of("a\\{", "b"), PatternList.split("a\\{,b"), "an escaped brace opens nothing");
    }

    @Test void repeatedValuesAreConcatenatedInOrder() {
        assertEquals(List.of("fc{1,2}/kernel", "fc3/kernel", "conv1/kernel"),
                PatternList.split(List.of("fc{1,2}/kernel", "fc3/kernel,conv1/kernel")));
    }
}
