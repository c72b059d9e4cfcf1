package dev.shears.core.backend;

import dev.shears.core.cuda.CudaBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Backend selection, on whatever this machine is (no GPU in CI: auto must pick the CPU and say why). */
class BackendsTest {

    @Test
    void cpuIsAlwaysAvailable() {
        Backends.Selection s = Backends.create("cpu");
        try (Backend b = s.backend()) {
            assertEquals("cpu", b.kind());
            assertTrue(s.reason().contains("requested"), s.reason());
        }
    }

    @Test
    void autoSaysWhichAndWhy() {
        Backends.Selection s = Backends.create("auto");
        try (Backend b = s.backend()) {
            if (CudaBackend.isAvailable()) {
                assertEquals("cuda", b.kind());
                assertTrue(s.reason().contains("auto found a CUDA device"), s.reason());
            } else {
                assertEquals("cpu", b.kind());
                assertTrue(s.reason().contains("auto fell back to the CPU because CUDA is unavailable: "), s.reason());
                // the cause's first sentence, without the discovery trace (that is --backend cuda's error)
                String firstLineOfCause = CudaBackend.unavailabilityCause().lines().findFirst().orElseThrow();
                int stop = firstLineOfCause.indexOf(". ");
                String firstSentence = stop < 0 ? firstLineOfCause : firstLineOfCause.substring(0, stop + 1);
                assertTrue(s.reason().contains(firstSentence), s.reason());
                assertFalse(s.reason().contains("tried:"), s.reason());
                assertFalse(s.reason().contains("\n"), "one line for the log");
            }
        }
    }

    @Test
    void cudaFailsWithTheCauseInsteadOfFallingBack() {
        if (CudaBackend.isAvailable()) return;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.create("cuda"));
        assertTrue(e.getMessage().startsWith("--backend cuda: the CUDA backend is unavailable: "), e.getMessage());
        assertTrue(e.getMessage().contains(CudaBackend.unavailabilityCause()), e.getMessage());
    }

    @Test
    void unknownNamesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.create("tpu"));
        assertTrue(e.getMessage().contains("expected auto, cpu or cuda"), e.getMessage());
    }
}
