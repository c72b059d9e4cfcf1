package dev.shears.nativebind;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs everywhere: the cuSPARSELt 2:4 bindings' argument checks, version guard, and, on a machine
 * without the library, that every call reaches its downcall handle with exactly the Java types
 * of its FunctionDescriptor (a mismatch would throw WrongMethodTypeException instead of the load
 * failure). Calling them for real is {@code StructuredMatmulIT}'s job on the GPU machine.
 */
class CusparseLtBindingTest {

    @Test
    void shapesTheTensorCoresCannotTakeAreRefusedWithTheValues() {
        StructuredMatmul.checkShape(8192, 8192, 8192, CusparseLt.CUDA_R_16F);
        StructuredMatmul.checkShape(64, 8, 16, CusparseLt.CUDA_R_16BF);
        IllegalArgumentException k = assertThrows(IllegalArgumentException.class, () -> StructuredMatmul.checkShape(64, 32, 100, CusparseLt.CUDA_R_16F));
        assertTrue(k.getMessage().contains("k=100"), k.getMessage());
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class, () -> StructuredMatmul.checkShape(64, 32, 64, CusparseLt.CUDA_R_32F));
        assertTrue(t.getMessage().contains("value type 0"), t.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StructuredMatmul.checkShape(0, 8, 16, CusparseLt.CUDA_R_16F));
        // the structured A [m, k] needs m in multiples of 16 too (cusparseLtStructuredDescriptorInit refuses 8)
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> StructuredMatmul.checkShape(24, 32, 64, CusparseLt.CUDA_R_16F));
        assertTrue(m.getMessage().contains("m=24"), m.getMessage());
    }

    @Test
    void versionsBeforeTheEnumRenumberingAreRefused() {
        CusparseLt.requireModernEnums(801);
        CusparseLt.requireModernEnums(600);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CusparseLt.requireModernEnums(402));
        assertTrue(e.getMessage().contains("0.4.2"), e.getMessage());
        assertEquals("0.8.1", CusparseLt.formatVersion(801));
    }

    @Test
    void everyCallMatchesItsDescriptorAndFailsWithTheLoadFailure() {
        if (CusparseLt.library().isLoaded()) return; // with the library these would run for real: StructuredMatmulIT
        MemorySegment p = MemorySegment.NULL;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment scalars = a.allocate(8);
            List<Executable> calls = List.of(
                    () -> CusparseLt.denseDescriptorInit(p, p, 8, 8, 8, 16, CusparseLt.CUDA_R_16F, CusparseLt.CUSPARSE_ORDER_ROW),
                    () -> CusparseLt.structuredDescriptorInit(p, p, 8, 16, 16, 16, CusparseLt.CUDA_R_16F, CusparseLt.CUSPARSE_ORDER_ROW),
                    () -> CusparseLt.matDescriptorDestroy(p),
                    () -> CusparseLt.matmulDescriptorInit(p, p, 0, 0, p, p, p, p, CusparseLt.CUSPARSE_COMPUTE_32F),
                    () -> CusparseLt.matmulAlgSelectionInit(p, p, p, 0),
                    () -> CusparseLt.matmulAlgSetIntAttribute(p, p, CusparseLt.CUSPARSELT_MATMUL_SEARCH_ITERATIONS, 5),
                    () -> CusparseLt.matmulPlanInit(p, p, p, p),
                    () -> CusparseLt.matmulPlanDestroy(p),
                    () -> CusparseLt.matmulWorkspace(p, p),
                    () -> CusparseLt.matmul(p, p, scalars, 0, 0, 0, 0, 0, p),
                    () -> CusparseLt.matmulSearch(p, p, scalars, 0, 0, 0, 0, 0, p),
                    () -> CusparseLt.spmmaPrune(p, p, 0, 0, CusparseLt.CUSPARSELT_PRUNE_SPMMA_STRIP, p),
                    () -> CusparseLt.spmmaPruneCheck(p, p, 0, 0, p),
                    () -> CusparseLt.spmmaCompressedSize(p, p),
                    () -> CusparseLt.spmmaCompress(p, p, 0, 0, 0, p));
            for (int i = 0; i < calls.size(); i++) {
                NativeLibraryException e = assertThrows(NativeLibraryException.class, calls.get(i), "call " + i);
                assertTrue(e.getMessage().contains("libcusparseLt.so.0"), "call " + i + ": " + e.getMessage());
            }
        }
    }
}
