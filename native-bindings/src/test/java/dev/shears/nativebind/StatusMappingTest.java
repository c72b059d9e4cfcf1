package dev.shears.nativebind;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class StatusMappingTest {

    private static StatusDescriber fixed(String name, String description) {
        return new StatusDescriber() {
            @Override public String name(int code) { return name; }
            @Override public String description(int code) { return description; }
        };
    }

    @Test
    void exceptionCarriesFunctionCodeAndTheLibrarysOwnWords() {
        CudaException e = StatusDescriber.toException(CudaLibrary.DRIVER,
                fixed("CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"), "cuMemcpyDtoHAsync_v2", 700, "4096 bytes");
        assertEquals(CudaLibrary.DRIVER, e.library());
        assertEquals("cuMemcpyDtoHAsync_v2", e.function());
        assertEquals(700, e.code());
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", e.errorName());
        assertEquals("an illegal memory access was encountered", e.errorString());
        assertEquals("CUDA driver cuMemcpyDtoHAsync_v2 failed: CUDA_ERROR_ILLEGAL_ADDRESS (700): "
                + "an illegal memory access was encountered [4096 bytes]", e.getMessage());
        assertFalse(e.isOutOfMemory());
    }

    @Test
    void fallsBackToTheBuiltInNamesWhenTheLibraryCannotSay() {
        StatusDescriber broken = new StatusDescriber() {
            @Override public String name(int code) { throw new NativeLibraryException("gone", java.util.List.of()); }
            @Override public String description(int code) { return null; }
        };
        CudaException e = StatusDescriber.toException(CudaLibrary.CUBLAS, broken, "cublasSgemm_v2", 3, null);
        assertEquals("CUBLAS_STATUS_ALLOC_FAILED", e.errorName());
        assertTrue(e.isOutOfMemory());
        assertEquals("cuBLAS cublasSgemm_v2 failed: CUBLAS_STATUS_ALLOC_FAILED (3)", e.getMessage());

        CudaException unknown = StatusDescriber.toException(CudaLibrary.DRIVER, fixed(null, null), "cuInit", 12345, null);
        assertEquals("CUresult 12345", unknown.errorName());
    }

    @Test
    void outOfMemoryIsRecognisedPerLibrary() {
        assertTrue(StatusDescriber.toException(CudaLibrary.DRIVER, fixed(null, null), "cuMemAlloc_v2", 2, null).isOutOfMemory());
        assertTrue(StatusDescriber.toException(CudaLibrary.CUSPARSE, fixed(null, null), "cusparseSpMM", 2, null).isOutOfMemory());
        assertFalse(StatusDescriber.toException(CudaLibrary.CUBLAS, fixed(null, null), "cublasSgemm_v2", 2, null).isOutOfMemory());
        assertEquals("CUSPARSE_STATUS_INSUFFICIENT_RESOURCES", StatusNames.fallbackName(CudaLibrary.CUSPARSE, 11));
        assertEquals("CUDA_ERROR_NO_DEVICE", StatusNames.fallbackName(CudaLibrary.DRIVER, 100));
    }

    @Test
    void successIsNotAnError() {
        assertDoesNotThrow(() -> Cuda.check(0, "cuInit"));
        assertDoesNotThrow(() -> Cublas.check(0, "cublasCreate_v2"));
        assertDoesNotThrow(() -> Cusparse.check(0, "cusparseCreate"));
    }

    @Test
    void aFailedStatusThrowsEvenWithoutTheLibraryLoaded() {
        // On a machine without the driver the name comes from the built-in table; with it, from cuGetErrorName.
        CudaException e = assertThrows(CudaException.class, () -> Cuda.check(2, "cuMemAlloc_v2"));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
        assertEquals(2, e.code());
        assertTrue(e.getMessage().startsWith("CUDA driver cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)"), e.getMessage());
        CudaException s = assertThrows(CudaException.class, () -> Cusparse.check(3, "cusparseCreateCsr"));
        assertEquals("CUSPARSE_STATUS_INVALID_VALUE", s.errorName());
    }
}
