package dev.shears.nativebind;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Runs everywhere: without a driver CUDA must report unavailable with the places tried. */
class CudaAvailabilityTest {

    @Test
    void availabilityAndCauseAgree() {
        assertEquals(Cuda.isAvailable(), Cuda.unavailabilityCause() == null);
        assertEquals(Cuda.isAvailable(), Cuda.unavailabilityException() == null);
        // Probed once: the same answer and the same cause object every time.
        assertSame(Cuda.unavailabilityException(), Cuda.unavailabilityException());
    }

    @Test
    void withoutTheDriverTheCauseNamesTheLibraryAndEveryPlaceTried() {
        if (Cuda.library().isLoaded()) return; // a machine with the driver: covered by the *IT tests
        assertFalse(Cuda.isAvailable());
        String cause = Cuda.unavailabilityCause();
        assertTrue(cause.contains("libcuda.so.1"), cause);
        assertTrue(cause.contains("via the system loader"), cause);
        assertTrue(cause.contains(LibraryDiscovery.ENV), cause);
        NativeLibraryException e = assertInstanceOf(NativeLibraryException.class, Cuda.unavailabilityException());
        assertFalse(e.tried().isEmpty());
    }

    @Test
    void callsWithoutTheLibraryFailWithTheLoadFailureNotACrash() {
        if (Cublas.library().isLoaded()) return;
        NativeLibraryException e = assertThrows(NativeLibraryException.class, Cublas::create);
        assertTrue(e.getMessage().contains("libcublas.so.13"), e.getMessage());
        assertTrue(e.getMessage().contains("libcublas.so.12"), e.getMessage());
    }
}
