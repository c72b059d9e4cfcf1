package dev.shears.nativebind;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * cuSPARSELt's 2:4 chain through {@link StructuredMatmul} on the device: prune A on the GPU,
 * check the pattern (the library's check and ours on the host), compress, multiply, and compare
 * D with the host product of the pruned A and B. Skips without CUDA or cuSPARSELt; fails instead
 * under -Dshears.requireGpu=true. Written without a GPU: first run is on the device machine.
 */
class StructuredMatmulIT {

    @BeforeEach
    void requireCusparseLt() {
        String cause = !Cuda.isAvailable() ? Cuda.unavailabilityCause()
                : !CusparseLt.library().isLoaded() ? CusparseLt.library().failure().orElseThrow().getMessage() : null;
        if (cause == null) return;
        DeviceArrays.skipOrFail("cuSPARSELt", cause);
    }

    @Test
    void prunesCompressesAndMultipliesLikeTheHost() {
        int m = 64, n = 32, k = 128;
        SplittableRandom r = new SplittableRandom(3);
        short[] a = new short[m * k], b = new short[k * n];
        for (int i = 0; i < a.length; i++) a[i] = Float.floatToFloat16((float) (r.nextDouble() * 2 - 1));
        for (int i = 0; i < b.length; i++) b[i] = Float.floatToFloat16((float) (r.nextDouble() * 2 - 1));
        try (CudaContext ctx = CudaContext.open(0); CudaStream s = CudaStream.create(); CusparseLtHandle lt = new CusparseLtHandle()) {
            CusparseLt.requireModernEnums(lt.version());
            long dA = DeviceArrays.upload(a, s), dB = DeviceArrays.upload(b, s), dD = Cuda.memAlloc(2L * m * n), dValid = Cuda.memAlloc(4);
            try (StructuredMatmul mm = new StructuredMatmul(lt, m, n, k, CusparseLt.CUDA_R_16F, CusparseLt.CUSPARSE_COMPUTE_32F)) {
                mm.prune(dA, dA, s);
                mm.checkPruned(dA, dValid, s);
                int[] valid = new int[1];
                Cuda.copyFromDevice(MemorySegment.ofArray(valid), dValid, 4, s);
                assertEquals(0, valid[0], "cusparseLtSpMMAPruneCheck: the pruned A does not follow 2:4");
                short[] pruned = DeviceArrays.downloadShorts(dA, m * k, s);
                for (int i = 0; i < m; i++)
                    for (int g = 0; g < k; g += 4) {
                        int nz = 0;
                        for (int j = g; j < g + 4; j++) if (Float.float16ToFloat(pruned[i * k + j]) != 0f) nz++;
                        assertTrue(nz <= 2, "row " + i + " columns " + g + ".." + (g + 3) + " keep " + nz + " of 4");
                    }
                long[] sizes = mm.compressedSize();
                assertTrue(sizes[0] > 0 && sizes[0] < 2L * m * k, "compressed size " + sizes[0] + " of a " + 2L * m * k + "-byte A");
                long dC = Cuda.memAlloc(sizes[0]), dScratch = Cuda.memAlloc(Math.max(1, sizes[1]));
                long ws = mm.workspaceBytes(), dWs = ws > 0 ? Cuda.memAlloc(ws) : 0;
                try {
                    mm.compress(dA, dC, dScratch, s);
                    mm.matmul(dC, dB, dD, dWs, s);
                    short[] d = DeviceArrays.downloadShorts(dD, m * n, s);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double e = 0;
                            for (int p = 0; p < k; p++) e += (double) Float.float16ToFloat(pruned[i * k + p]) * Float.float16ToFloat(b[p * n + j]);
                            // FP16 output: 11-bit mantissa, so ~1e-3 relative on |D| ~ sqrt(k/2)/3 ~ 3, plus FP32 accumulation
                            assertEquals(e, Float.float16ToFloat(d[i * n + j]), 1e-2 + 2e-3 * Math.abs(e), "D[" + i + "," + j + "]");
                        }
                } finally {
                    Cuda.memFree(dC);
                    Cuda.memFree(dScratch);
                    if (dWs != 0) Cuda.memFree(dWs);
                }
            } finally {
                for (long p : new long[] {dA, dB, dD, dValid}) Cuda.memFree(p);
            }
        }
    }
}
