package dev.shears.io.keras;

import dev.shears.io.ImportException;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.checksum.ChecksumUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A dataset whose metadata declares more values than the heap holds (a damaged dimension in a few
 * bytes of header) is refused from its declared dims and element size before jhdf reads it: the
 * error names the file, the dataset, the size and the -Xmx fix. (It was jhdf's OutOfMemoryError, or
 * whatever its read failed with, turned into "truncated or corrupt" only after the attempt.)
 */
class Hdf5SizeTest {
    /** The dims of the dataset written; the second is distinctive enough to find in the file's dataspace message. */
    private static final long MARK = 40_961;

    @Test
    void datasetDeclaringMoreThanTheHeapIsRefusedBeforeReading(@TempDir Path dir) throws Exception {
        long huge = 700_000_000L; // 3 x 7e8 float32 = 8 GB
        assumeTrue(Runtime.getRuntime().maxMemory() < 3 * huge * Float.BYTES, "the heap holds 8 GB: the dataset would fit");
        Path file = dir.resolve("weights.h5");
        try (WritableHdfFile h5 = HdfFile.write(file)) {
            h5.putGroup("dense").putDataset("kernel", new float[3][(int) MARK]);
        }
        byte[] b = Files.readAllBytes(file);
        int patched = 0;
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 8 <= b.length; i++) {
            if (bb.getLong(i) == MARK) {
                bb.putLong(i, huge);
                patched++;
            }
        }
        assertTrue(patched >= 1, "the dataspace's dimension was found");
        resealObjectHeaders(b);
        Files.write(file, b);
        try (HdfFile h = Hdf5.open(file)) {
            Dataset ds = (Dataset) Hdf5.byPath(file, h, "dense/kernel");
            assertArrayEquals(new int[]{3, (int) huge}, Hdf5.dims(file, ds), "jhdf reads the damaged dims from the header");
            ImportException e = assertThrows(ImportException.class, () -> Hdf5.floats(file, ds));
            assertEquals(file, e.file());
            assertEquals("/dense/kernel", e.node());
            assertTrue(e.getMessage().contains("dataset of dims [3, 700000000] (4-byte values) needs 8010 MB"), e.getMessage());
            assertTrue(e.getMessage().contains("-Xmx"), e.getMessage());
        }
    }

    /**
     * Recomputes the checksum of every version-2 object header ("OHDR"), as a damaged file written by
     * a tool would carry: layout from the HDF5 file format specification, section IV.A.1.b (signature,
     * version, flags, optional times and attribute phase change values, chunk size of 1 << (flags & 3)
     * bytes, the messages, then a Jenkins lookup3 checksum of everything before it).
     */
    private static void resealObjectHeaders(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int o = 0; o + 8 <= b.length; o++) {
            if (b[o] != 'O' || b[o + 1] != 'H' || b[o + 2] != 'D' || b[o + 3] != 'R' || b[o + 4] != 2) continue;
            int flags = b[o + 5] & 0xff;
            int at = o + 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
            int width = 1 << (flags & 3);
            long size = switch (width) {
                case 1 -> b[at] & 0xff;
                case 2 -> bb.getShort(at) & 0xffff;
                case 4 -> bb.getInt(at) & 0xffffffffL;
                default -> bb.getLong(at);
            };
            int end = (int) (at + width + size);
            bb.putInt(end, ChecksumUtils.checksum(java.util.Arrays.copyOfRange(b, o, end)));
        }
    }

    @Test
    void datasetThatFitsReadsAsBefore(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("weights.h5");
        float[][] v = {{1.5f, -2f, 0f}, {3f, 4.25f, -0f}};
        try (WritableHdfFile h5 = HdfFile.write(file)) {
            h5.putGroup("dense").putDataset("kernel", v);
        }
        try (HdfFile h = Hdf5.open(file)) {
            Dataset ds = (Dataset) Hdf5.byPath(file, h, "dense/kernel");
            assertArrayEquals(new float[]{1.5f, -2f, 0f, 3f, 4.25f, -0f}, Hdf5.floats(file, ds));
        }
    }
}
