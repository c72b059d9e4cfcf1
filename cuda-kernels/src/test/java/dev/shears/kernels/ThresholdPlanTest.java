package dev.shears.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ThresholdPlanTest {

    @Test
    void digitPassesCoverEveryKeyBitExactlyOnce() {
        for (ThresholdPlan.Variant v : ThresholdPlan.Variant.values()) {
            long covered = 0;
            int expectedTop = v == ThresholdPlan.Variant.NAIVE ? 32 : 31;
            int previousShift = expectedTop;
            for (int[] pass : v.passes()) {
                int shift = pass[0], bits = pass[1];
                assertEquals(previousShift, shift + bits, v + ": passes must be contiguous, most significant first");
                assertTrue(1 << bits <= ThresholdPlan.MAX_BINS, v + ": " + bits + " bits exceed the bins");
                for (int b = shift; b < shift + bits; b++) {
                    assertEquals(0, covered & (1L << b), v + " covers bit " + b + " twice");
                    covered |= 1L << b;
                }
                previousShift = shift;
            }
            assertEquals(0, previousShift, v + ": the last pass must end at bit 0");
            // bit 31 of a key (the sign of |w|) is always 0, so the tiled passes may skip it
            assertEquals(v == ThresholdPlan.Variant.NAIVE ? 0xFFFF_FFFFL : 0x7FFF_FFFFL, covered);
        }
    }

    @Test
    void hiMaskSelectsTheBitsAlreadyDecided() {
        assertEquals(0, ThresholdPlan.hiMask(24, 8));
        assertEquals(0xFF00_0000, ThresholdPlan.hiMask(16, 8));
        assertEquals(0x8000_0000, ThresholdPlan.hiMask(20, 11));
        assertEquals(0xFFF0_0000, ThresholdPlan.hiMask(9, 11));
        assertEquals(0xFFFF_FE00, ThresholdPlan.hiMask(0, 9));
    }

    @Test
    void tileTableStartsEachTensorWhereThePreviousEnds() {
        int tile = ThresholdPlan.TILE;
        ThresholdPlan p = new ThresholdPlan(new long[] {1, 0, tile, tile + 1, 3L * tile}, new long[] {5}, true,
                ThresholdPlan.Variant.TILED);
        assertArrayEquals(new long[] {0, 1, 1, 2, 4, 7}, p.blockStart());
        assertEquals(1, p.groups());
    }

    @Test
    void scratchRegionsAreDisjointAndAligned() {
        ThresholdPlan p = new ThresholdPlan(new long[] {10, 20, 30}, new long[] {1, 2, 3}, false, ThresholdPlan.Variant.TILED);
        long[] offs = {p.offPointers(), p.offSizes(), p.offBlockStart(), p.offRanks(), p.offBelow(), p.offEqual(),
                p.offPrefix(), p.offHistogram(), p.offCompactCounts(), p.offCompactKeys(), p.scratchBytes()};
        for (int i = 1; i < offs.length; i++) assertTrue(offs[i] > offs[i - 1], "region " + i);
        for (int i = 0; i < 7; i++) assertEquals(0, offs[i] % 8, "8-byte aligned region " + i);
        assertEquals(0, p.offHistogram() % 256);
        assertEquals(p.offBlockStart() + 8 * 4, p.offRanks());
        assertEquals(p.offHistogram() + 4L * ThresholdPlan.MAX_BINS * 3, p.offHistogramEnd());
        // Compaction: one count and COMPACT_CAP keys per tile (three tensors of one tile each).
        assertTrue(p.compacts());
        assertEquals(0, p.offCompactCounts() % 256);
        assertEquals(0, p.offCompactKeys() % 256);
        assertTrue(p.offCompactKeys() >= p.offCompactCounts() + 4L * 3);
        assertEquals(p.offCompactKeys() + 4L * ThresholdPlan.COMPACT_CAP * 3, p.scratchBytes());
    }

    @Test
    void constantsMatchTheKernelSource() throws java.io.IOException {
        String cu = java.nio.file.Files.readString(KernelSourcesTest.CUDA.resolve("magnitude_threshold.cu"));
        assertTrue(cu.contains("#define THRESHOLD_TILE " + ThresholdPlan.TILE + "\n"), "THRESHOLD_TILE");
        assertTrue(cu.contains("#define THRESHOLD_MAX_BINS " + ThresholdPlan.MAX_BINS + "\n"), "THRESHOLD_MAX_BINS");
        assertEquals(ThresholdPlan.TILE / 4, ThresholdPlan.COMPACT_CAP);
        assertTrue(cu.contains("#define THRESHOLD_COMPACT_CAP (THRESHOLD_TILE / 4)\n"), "THRESHOLD_COMPACT_CAP");
    }

    @Test
    void compactionCostsOneBytePerElementAndOnlyTheTiledVariant() {
        long n = 100L * ThresholdPlan.TILE;
        ThresholdPlan tiled = new ThresholdPlan(new long[] {n}, new long[] {n / 2}, false, ThresholdPlan.Variant.TILED);
        assertEquals(n, tiled.scratchBytes() - tiled.offCompactKeys());
        ThresholdPlan naive = new ThresholdPlan(new long[] {n}, new long[] {n / 2}, false, ThresholdPlan.Variant.NAIVE);
        assertFalse(naive.compacts());
        assertEquals(naive.offCompactKeys(), naive.scratchBytes());
        assertEquals(naive.offHistogramEnd(), naive.offCompactCounts());
    }

    @Test
    void invalidRanksAreRejectedWithTheTensorAndItsSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ThresholdPlan(new long[] {10, 20}, new long[] {3, 21}, false, ThresholdPlan.Variant.TILED));
        assertTrue(e.getMessage().contains("k=21 for tensor 1 of 20 elements"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ThresholdPlan(new long[] {10, 20}, new long[] {31}, true, ThresholdPlan.Variant.TILED));
        assertTrue(e.getMessage().contains("outside [1, 30]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ThresholdPlan(new long[0], new long[] {1}, true, ThresholdPlan.Variant.TILED));
        assertThrows(IllegalArgumentException.class,
                () -> new ThresholdPlan(new long[] {1L << 32}, new long[] {1}, true, ThresholdPlan.Variant.TILED));
    }
}
