package dev.shears.io;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class UniqueNamesTest {
    @Test void aFreeBaseIsKeptAndATakenOneGetsTheFirstFreeSuffix() {
        UniqueNames names = new UniqueNames();
        names.add("conv");
        names.add("conv_2");
        assertEquals("relu", names.fresh("relu"));
        assertEquals("relu_2", names.fresh("relu"), "the name it handed out is taken now");
        assertEquals("conv_3", names.fresh("conv"), "conv and conv_2 came from the file");
        assertEquals("conv_2_2", names.fresh("conv_2"));
    }
}
