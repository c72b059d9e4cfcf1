package dev.shears.io;

import dev.shears.core.data.DataException;
import dev.shears.core.data.Npy;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** The .npy reader against files NumPy wrote, and the writer against the format's rules. */
class NpyTest {
    @TempDir Path dir;

    private static Path resource(String name) {
        try {
            return Path.of(NpyTest.class.getResource("/npy/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final float[] VALUES = {-0.5f, -0.25f, 0f, 0.25f, 0.5f, 0.75f};

    @Test
    void readsNumpyFloat32Float64BigEndianAndInt64() throws IOException {
        for (String f : new String[]{"f4_2x3.npy", "f8_2x3.npy", "f4be_2x3.npy"}) {
            FloatArray a = FloatArray.of(Npy.read(resource(f)));
            assertEquals(Shape.of(2, 3), a.shape(), f);
            assertArrayEquals(VALUES, a.data(), f);
        }
        FloatArray ints = FloatArray.of(Npy.read(resource("i8_4.npy")));
        assertArrayEquals(new float[]{1, -2, 3, 4e10f}, ints.data());
        FloatArray scalar = FloatArray.of(Npy.read(resource("f4_scalar.npy")));
        assertEquals(0, scalar.shape().rank());
        assertArrayEquals(new float[]{2.5f}, scalar.data());
    }

    @Test
    void refusesFortranOrderAndTruncatedFilesClearly() throws IOException {
        DataException e = assertThrows(DataException.class, () -> FloatArray.of(Npy.read(resource("fortran_2x3.npy"))));
        assertTrue(e.getMessage().contains("Fortran"), e.getMessage());
        byte[] full = Files.readAllBytes(resource("f4_2x3.npy"));
        Path cut = dir.resolve("cut.npy");
        Files.write(cut, Arrays.copyOf(full, full.length - 5));
        DataException t = assertThrows(DataException.class, () -> FloatArray.of(Npy.read(cut)));
        assertTrue(t.getMessage().contains("truncated") && t.getMessage().contains("cut.npy"), t.getMessage());
        Path text = dir.resolve("text.npy");
        Files.writeString(text, "hello, not numpy");
        assertThrows(DataException.class, () -> FloatArray.of(Npy.read(text)));
    }

    /** Found by NpyCorruptionTest: an empty dtype and a shape past one Java array were raw runtime exceptions. */
    @Test
    void refusesEmptyDtypeAndHugeShapeClearly() throws IOException {
        String good = Files.readString(resource("f4_2x3.npy"), java.nio.charset.StandardCharsets.ISO_8859_1);
        String[][] cases = {{"'descr': '<f4'", "'descr': ''   ", "dtype '' is empty"},
                {"'shape': (2, 3), }       ", "'shape': (65536,65536), }", "more than one Java array holds"}};
        for (String[] c : cases) {
            assertTrue(good.contains(c[0]), c[0]);
            assertEquals(c[0].length(), c[1].length(), "same header length");
            Path p = dir.resolve("edited.npy");
            Files.write(p, good.replace(c[0], c[1]).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            DataException e = assertThrows(DataException.class, () -> FloatArray.of(Npy.read(p)));
            assertTrue(e.getMessage().contains("edited.npy") && e.getMessage().contains(c[2]), e.getMessage());
        }
    }

    @Test
    void writtenFileHasAnAlignedHeaderAndReadsBackExactly() throws IOException {
        FloatArray a = new FloatArray(Shape.of(1, 3, 2, 2), new float[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -0f});
        Path p = dir.resolve("out.npy");
        Npy.write(p, a.shape(), a.data());
        byte[] b = Files.readAllBytes(p);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLen) % 64, "data starts 64-byte aligned");
        assertEquals('\n', b[10 + headerLen - 1]);
        FloatArray back = FloatArray.of(Npy.read(p));
        assertEquals(a.shape(), back.shape());
        for (int i = 0; i < 12; i++) assertEquals(Float.floatToRawIntBits(a.data()[i]), Float.floatToRawIntBits(back.data()[i]));
        // the same bytes NumPy writes for this array (header included)
        FloatArray numpy = FloatArray.of(Npy.read(resource("f4_1x3x2x2.npy")));
        Npy.write(p, numpy.shape(), numpy.data());
        assertArrayEquals(Files.readAllBytes(resource("f4_1x3x2x2.npy")), Files.readAllBytes(p));
    }

    @Test
    void oneDimensionalShapeIsWrittenAsATuple() {
        String header = new String(Npy.toBytes(Shape.of(3), new float[3]), 10, 54);
        assertTrue(header.contains("'shape': (3,)"), header);
    }
}
