package dev.shears.kernels;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs in every build. With nvcc at build time (the nvcc profile sets shears.fatbin.expected) the
 * fatbin must be on the classpath with SASS for sm_80 and sm_90 and PTX for compute_90, and hold
 * every kernel the launchers name; without nvcc it must be absent and say how to get it.
 */
class FatbinResourceTest {
    private static final boolean EXPECTED = Boolean.getBoolean("shears.fatbin.expected");

    /** One entry of the fatbin container: kind 1 = PTX, 2 = ELF (SASS); arch as 80, 90, ... */
    record Entry(int kind, int arch, long size) {}

    /**
     * Walks the container: a 16-byte header (magic u32, version u16, header size u16, payload
     * size u64), then entries each with kind u16 at +0, header size u32 at +4, payload size u64 at
     * +8 and the architecture u32 at +28 (layout as nvcc 12/13 write it).
     */
    static Set<Entry> entries(byte[] image) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(KernelImage.FATBIN_MAGIC, b.getInt(0), "fatbin magic");
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long payload = b.getLong(8);
        assertEquals(image.length, headerSize + payload, "header size + payload size = file size");
        Set<Entry> out = new HashSet<>();
        long at = headerSize;
        while (at < headerSize + payload) {
            int p = Math.toIntExact(at);
            int kind = Short.toUnsignedInt(b.getShort(p));
            long entryHeader = Integer.toUnsignedLong(b.getInt(p + 4));
            long size = b.getLong(p + 8);
            int arch = b.getInt(p + 28);
            assertTrue(size > 0 && entryHeader >= 32, "entry at " + at + ": header " + entryHeader + " size " + size);
            out.add(new Entry(kind, arch, size));
            at += entryHeader + size;
        }
        assertEquals(headerSize + payload, at, "entries end exactly at the end of the payload");
        return out;
    }

    @Test
    void imageIsPresentExactlyWhenNvccRan() {
        if (EXPECTED) {
            assertTrue(KernelImage.isPresent(), "built with nvcc but " + KernelImage.RESOURCE + " is missing");
            assertNull(KernelImage.unavailabilityCause());
        } else {
            assertFalse(KernelImage.isPresent(), "no nvcc profile, yet a fatbin is on the classpath (stale target/?)");
            assertTrue(KernelImage.unavailabilityCause().contains("nvcc"), KernelImage.unavailabilityCause());
            assertThrows(IllegalStateException.class, KernelImage::bytes);
        }
    }

    @Test
    void imageHoldsSassForAmpereAndHopperAndPtxForCompute90() {
        if (!EXPECTED) return;
        Set<Entry> entries = entries(KernelImage.bytes());
        Set<String> kinds = new HashSet<>();
        for (Entry e : entries) kinds.add((e.kind() == 2 ? "sm_" : e.kind() == 1 ? "compute_" : "kind" + e.kind() + "_") + e.arch());
        assertEquals(Set.of("sm_80", "sm_90", "compute_90"), kinds);
    }

    @Test
    void everyKernelTheLaunchersNameIsInTheImage() throws Exception {
        if (!EXPECTED) return;
        String image = new String(KernelImage.bytes(), StandardCharsets.ISO_8859_1);
        Set<String> names = KernelSourcesTest.kernelNamesUsedByLaunchers();
        assertTrue(names.size() > 30, "found only " + names);
        for (String name : names) assertTrue(image.contains(name + "\0"), name + " missing from the fatbin");
    }
}
