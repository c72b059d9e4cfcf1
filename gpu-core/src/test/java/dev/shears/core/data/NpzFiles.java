package dev.shears.core.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes {@code .npy} files of any dtype and {@code .npz} archives the way NumPy does, for tests
 * (written here from the format's documentation, numpy.lib.format, not from NumPy's code):
 * <ul>
 *   <li>a {@code .npy} v1.0 file is the 6 bytes {@code \x93NUMPY}, the version bytes 1, 0, the
 *       header length as a little-endian uint16, then the header: a Python dict literal with the
 *       keys {@code 'descr'} (a dtype string such as {@code '|u1'}, {@code '<f4'}, {@code '>i8'}),
 *       {@code 'fortran_order'} and {@code 'shape'} (a tuple; one element needs a trailing comma),
 *       padded with spaces and ended by {@code '\n'} so that 10 + header length is divisible by 64;
 *       then the elements, C order unless fortran_order;</li>
 *   <li>{@code np.savez} writes a zip archive with one entry {@code NAME.npy} per keyword
 *       argument, stored; {@code np.savez_compressed} the same entries deflated.</li>
 * </ul>
 */
public final class NpzFiles {
    private NpzFiles() {}

    /** A version 1.0 {@code .npy} of {@code data} (already in the byte order {@code descr} says) with {@code shape}. */
    public static byte[] npy(String descr, int[] shape, byte[] data, boolean fortran) {
        StringBuilder t = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) t.append(i > 0 ? ", " : "").append(shape[i]);
        if (shape.length == 1) t.append(',');
        t.append(')');
        StringBuilder h = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + t + ", }");
        while ((10 + h.length() + 1) % 64 != 0) h.append(' ');
        h.append('\n');
        byte[] header = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0).putShort((short) header.length);
        return b.put(header).put(data).array();
    }

    public static byte[] u1(int[] shape, byte[] data) { return npy("|u1", shape, data, false); }

    public static byte[] f4(int[] shape, float[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return npy("<f4", shape, b.array(), false);
    }

    public static byte[] f8(int[] shape, double[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(data);
        return npy("<f8", shape, b.array(), false);
    }

    /** int64 in the given byte order ({@code '<'} or {@code '>'}). */
    public static byte[] i8(int[] shape, int[] data, char order) {
        ByteBuffer b = ByteBuffer.allocate(8 * data.length).order(order == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        for (int v : data) b.putLong(v);
        return npy(order + "i8", shape, b.array(), false);
    }

    /** An archive with one entry {@code NAME.npy} per map entry, in its order; stored (np.savez) or deflated (np.savez_compressed). */
    public static void npz(Path file, boolean deflate, Map<String, byte[]> arrays) throws IOException {
        try (OutputStream o = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(o)) {
            for (var a : arrays.entrySet()) {
                ZipEntry e = new ZipEntry(a.getKey() + ".npy");
                if (deflate) e.setMethod(ZipEntry.DEFLATED);
                else { // a stored entry carries its sizes and CRC in its local header
                    CRC32 crc = new CRC32();
                    crc.update(a.getValue());
                    e.setMethod(ZipEntry.STORED);
                    e.setSize(a.getValue().length);
                    e.setCompressedSize(a.getValue().length);
                    e.setCrc(crc.getValue());
                }
                z.putNextEntry(e);
                z.write(a.getValue());
                z.closeEntry();
            }
        }
    }

    /** The bytes of an IDX resource of the bundled Fashion-MNIST split ({@code train-images-idx3-ubyte.gz}, ...), as read. */
    public static Idx.Array bundled(String name) throws IOException {
        try (var in = NpzFiles.class.getResourceAsStream("/dev/shears/core/data/fashion-mnist-small/" + name)) {
            return Idx.read(in, name, name.contains("images") ? 3 : 1);
        }
    }
}
