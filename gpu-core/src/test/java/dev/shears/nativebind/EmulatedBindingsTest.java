package dev.shears.nativebind;

import dev.shears.core.cuda.emulator.CudaEmulator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The emulator exports every driver, cuBLAS, cuSPARSE and cuSPARSELt function Shears binds, under the name the bindings
 * prefer (the versioned {@code _v2} symbol where there is one), so a binding added later without
 * its emulated twin fails here rather than deep inside a test. (In this package for
 * {@link LoadedLibrary#bindings()}.)
 */
class EmulatedBindingsTest {
    @BeforeAll static void emulator() { CudaEmulator.require(); }

    @Test
    void everyBoundFunctionIsEmulated() {
        for (LoadedLibrary lib : List.of(Cuda.library(), Cublas.library(), Cusparse.library(), CusparseLt.library())) {
            assertTrue(lib.isLoaded(), lib.library() + ": " + lib.failure().map(Throwable::getMessage).orElse(""));
            assertTrue(lib.location().contains("cuda-emulator"), lib.location());
            List<String> missing = new ArrayList<>();
            for (LoadedLibrary.Binding b : lib.bindings()) {
                if (!lib.has(b.names().get(0))) missing.add(b.names().get(0));
            }
            assertEquals(List.of(), missing, lib.library() + " functions the emulator lacks");
            assertTrue(lib.bindings().size() >= 6, lib.library() + ": " + lib.bindings().size() + " bindings");
        }
    }
}
