package dev.shears.core.nn;

import dev.shears.core.nn.layers.Dense;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Model's class names: at most one per output, none blank, none twice; an empty list clears them. */
class ModelClassNamesTest {
    private static Model threeOutputs() {
        return Model.builder().input("x", Shape.of(4)).then(new Dense("fc", 4, 3, true)).build();
    }

    @Test void keptRefusedAndCleared() {
        Model m = threeOutputs();
        assertTrue(m.classNames().isEmpty(), "a new model has no names");
        assertEquals(List.of("cat", "dog"), m.setClassNames(List.of("cat", "dog")).classNames(), "fewer names than outputs are kept");
        assertEquals("4 class names for a model with 3 outputs",
                assertThrows(IllegalArgumentException.class, () -> m.setClassNames(List.of("a", "b", "c", "d"))).getMessage());
        assertEquals("a blank class name among [a,  ]",
                assertThrows(IllegalArgumentException.class, () -> m.setClassNames(List.of("a", " "))).getMessage());
        assertEquals("class name 'a' given twice",
                assertThrows(IllegalArgumentException.class, () -> m.setClassNames(List.of("a", "b", "a"))).getMessage());
        assertEquals(List.of("cat", "dog"), m.classNames(), "a refused list leaves the names as they were");
        assertTrue(m.setClassNames(List.of()).classNames().isEmpty(), "an empty list clears them");
    }
}
