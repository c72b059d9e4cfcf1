package dev.shears.core.util;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class HeapBudgetTest {
    @Test void dataThatDoesNotFitIsRefusedWithoutAskingAboutACorruptFile() {
        long tooMuch = Runtime.getRuntime().maxMemory() + (1L << 30);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> HeapBudget.requireForData(tooMuch, "imgs (train): 9 images of [3, 8, 8] as floats", IllegalStateException::new));
        String m = e.getMessage();
        assertTrue(m.startsWith("imgs (train): 9 images of [3, 8, 8] as floats need " + (tooMuch >> 20) + " MB, more than the "), m);
        assertTrue(m.contains(" MB at most); give Java more heap (JAVA_OPTS=-Xmx8g ./shears ...), or use fewer or smaller images"), m);
        assertFalse(m.contains("corrupt"), m);
        // a header-sized array keeps its question
        assertTrue(HeapBudget.shortfall(tooMuch, "x.npy").contains("is the file corrupt?"));
    }

    @Test void dataThatFitsPasses() {
        assertDoesNotThrow(() -> HeapBudget.requireForData(1024, "small", IllegalStateException::new));
    }
}
