package dev.shears.io.fuzz;

import dev.shears.core.fuzz.Corruption;
import dev.shears.core.fuzz.Corruptions;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.io.FloatArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the corruption campaigns of this module check on a file that still loaded, and their seed files. */
final class LoadedChecks {
    private LoadedChecks() {}

    /** Every parameter holds a value of its declared shape, and the model has a non-empty output. */
    static void model(Object loaded) {
        Model m = (Model) loaded;
        for (Parameter p : m.parameters()) {
            assertTrue(p.value() != null, p.name() + " has a value");
            assertEquals(p.shape(), p.value().shape(), p.name() + " value shape");
        }
        assertTrue(m.outputShape().size() > 0, "output shape " + m.outputShape());
    }

    /** The data fills the shape exactly. */
    static void array(Object loaded) {
        FloatArray a = (FloatArray) loaded;
        assertEquals(a.shape().size(), a.data().length, "values for shape " + a.shape());
    }

    /** ~40 truncations (at 0, 1, the boundaries given, length-1 and seeded places) and ~60 mutations. */
    static List<Corruption> cases(byte[] seed, long rngSeed, int... boundaries) {
        List<Corruption> all = new ArrayList<>(Corruptions.truncations(seed, rngSeed, 40, boundaries));
        all.addAll(Corruptions.mutations(seed, rngSeed + 1000, 60));
        return all;
    }

    static Path resource(String rel) {
        Path p = Path.of("src/test/resources").resolve(rel);
        assertTrue(Files.isRegularFile(p), "test resource " + p);
        return p;
    }

    static byte[] bytes(String rel) {
        try {
            return Files.readAllBytes(resource(rel));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
