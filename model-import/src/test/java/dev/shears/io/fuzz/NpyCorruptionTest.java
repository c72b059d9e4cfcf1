package dev.shears.io.fuzz;

import dev.shears.core.fuzz.Corruption;
import dev.shears.core.fuzz.CorruptionCampaign;
import dev.shears.core.data.DataException;
import dev.shears.io.FloatArray;
import dev.shears.core.data.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Seeded corruption campaign over {@code .npy} files ({@link Npy#read}, what {@code predict --input
 * x.npy} calls): each damaged file loads consistently or fails with an {@link DataException}
 * naming it.
 */
class NpyCorruptionTest {
    @Test
    void damagedNpyFilesLoadOrFailClearly(@TempDir Path dir) {
        long started = System.nanoTime();
        CorruptionCampaign c = new CorruptionCampaign(dir, ".npy", p -> FloatArray.of(Npy.read(p)), LoadedChecks::array, Duration.ofSeconds(2),
                List.of(DataException.class));
        long seed = 200;
        for (String n : List.of("f4_1x3x2x2.npy", "f4_2x3.npy", "f4_scalar.npy", "f4be_2x3.npy", "f8_2x3.npy", "i8_4.npy",
                "../keras3/mlp_sequential_input.npy")) {
            byte[] b = LoadedChecks.bytes("npy/" + n);
            // boundaries: end of the magic (6), version (8), header length (10), header text, data
            c.run(Path.of(n).getFileName().toString(), LoadedChecks.cases(b, seed++, 6, 8, 10, 20, 60, 128));
        }
        c.run("header", headerCases());
        System.out.println("NPY campaign: " + c.summary() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        c.assertClean();
    }

    /**
     * Well-formed files whose header text says something impossible or unusual: byte mutations
     * rarely hit the dictionary's values, so each one is written here.
     */
    private static List<Corruption> headerCases() {
        String[] shapes = {"()", "(0,)", "(-1,)", "(2, -3)", "(2147483647,)", "(65536, 65536)", "(4294967296,)", "(99999999999999999999,)",
                "(2.5,)", "(x,)", "(,)", "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)", "(2, 3"};
        String[] descrs = {"<f4", "", "<", "f4", "<f2", "<c8", "|O", "<U3", "<V4", ">i8"};
        List<Corruption> out = new ArrayList<>();
        for (String shape : shapes) out.add(npy("shape=" + shape, "<f4", shape, 24));
        for (String descr : descrs) out.add(npy("descr=" + descr, descr, "(2, 3)", 48));
        out.add(npy("no-shape", "<f4", null, 24));
        return out;
    }

    /** A version 1.0 .npy file with the given header values and {@code dataBytes} zero bytes of data. */
    private static Corruption npy(String name, String descr, String shape, int dataBytes) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, " + (shape == null ? "" : "'shape': " + shape + ", ") + "}";
        StringBuilder h = new StringBuilder(dict);
        while ((10 + h.length() + 1) % 64 != 0) h.append(' ');
        h.append('\n');
        byte[] header = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] b = new byte[10 + header.length + dataBytes];
        b[0] = (byte) 0x93;
        System.arraycopy("NUMPY".getBytes(StandardCharsets.ISO_8859_1), 0, b, 1, 5);
        b[6] = 1;
        b[8] = (byte) header.length;
        b[9] = (byte) (header.length >> 8);
        System.arraycopy(header, 0, b, 10, header.length);
        return new Corruption(name, b);
    }
}
