package dev.shears.io;

import dev.shears.core.tensor.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's {@code .npy} format (public spec: numpy.lib.format): the magic {@code \x93NUMPY}, a
 * version byte pair, a little-endian header length (2 bytes in version 1, 4 in versions 2 and 3),
 * then an ASCII Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}
 * padded with spaces and a newline so that the data starts at a multiple of 64 bytes.
 *
 * <p>Reads float32 and float64 (either byte order) and the common integer types, converting to
 * float32; C order only. Writes float32, little-endian, C order, version 1.0.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    /** Reads a {@code .npy} file; a malformed one fails with an {@link ImportException} naming the file. */
    public static FloatArray read(Path file) throws IOException {
        return parse(Files.readAllBytes(file), file);
    }

    /** Parses the bytes of a {@code .npy} file; {@code file} only names it in errors (may be null). */
    public static FloatArray parse(byte[] bytes, Path file) {
        if (bytes.length < 10) throw bad(file, "file is " + bytes.length + " bytes, too short for a .npy header");
        for (int i = 0; i < MAGIC.length; i++)
            if (bytes[i] != MAGIC[i]) throw bad(file, "not a .npy file (the magic \\x93NUMPY is missing)");
        int major = bytes[6] & 0xff;
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int headerStart;
        switch (major) {
            case 1 -> { headerLen = bb.getShort(8) & 0xffff; headerStart = 10; }
            case 2, 3 -> {
                if (bytes.length < 12) throw bad(file, "truncated header");
                headerLen = bb.getInt(8) & 0xffffffffL;
                headerStart = 12;
            }
            default -> throw bad(file, "unsupported .npy version " + major + "." + (bytes[7] & 0xff) + " (supported: 1.0, 2.0, 3.0)");
        }
        if (headerStart + headerLen > bytes.length) throw bad(file, "truncated: header of " + headerLen + " bytes runs past the end of the file");
        String header = new String(bytes, headerStart, (int) headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, file, "descr");
        if ("True".equals(group(FORTRAN, header, file, "fortran_order")))
            throw bad(file, "Fortran-ordered arrays are not supported: save it C-ordered (numpy.ascontiguousarray)");
        Shape shape = parseShape(group(SHAPE, header, file, "shape"), file);
        int dataStart = (int) (headerStart + headerLen);

        if (descr.isEmpty()) throw bad(file, "dtype '' is empty (supported: float32, float64, int8-64, uint8-64, bool)");
        ByteOrder order = switch (descr.charAt(0)) {
            case '<', '|', '=' -> ByteOrder.LITTLE_ENDIAN;
            case '>' -> ByteOrder.BIG_ENDIAN;
            default -> throw bad(file, "dtype '" + descr + "' has no byte-order prefix");
        };
        String kind = descr.substring(1);
        int width = switch (kind) {
            case "f4", "i4", "u4" -> 4;
            case "f8", "i8", "u8" -> 8;
            case "i2", "u2" -> 2;
            case "i1", "u1", "b1" -> 1;
            default -> throw bad(file, "dtype '" + descr + "' is not supported (supported: float32, float64, int8-64, uint8-64, bool)");
        };
        int n = shape.intSize();
        long need = (long) n * width;
        if (bytes.length - dataStart < need)
            throw bad(file, "truncated: shape " + shape + " of " + descr + " needs " + need + " data bytes, the file has " + (bytes.length - dataStart));
        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) need).slice().order(order);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (kind) {
                case "f4" -> data.getFloat(i * 4);
                case "f8" -> (float) data.getDouble(i * 8);
                case "i4" -> data.getInt(i * 4);
                case "u4" -> data.getInt(i * 4) & 0xffffffffL;
                case "i8" -> data.getLong(i * 8);
                case "u8" -> unsignedToFloat(data.getLong(i * 8));
                case "i2" -> data.getShort(i * 2);
                case "u2" -> data.getShort(i * 2) & 0xffff;
                case "i1" -> data.get(i);
                default -> data.get(i) & 0xff; // u1, b1
            };
        }
        return new FloatArray(shape, out);
    }

    /** Writes a float32, little-endian, C-order {@code .npy} (version 1.0), atomically. */
    public static void write(Path file, FloatArray array) throws IOException {
        byte[] bytes = toBytes(array);
        dev.shears.core.util.AtomicFiles.write(file, o -> o.write(bytes));
    }

    public static byte[] toBytes(FloatArray array) {
        int[] dims = array.shape().dims();
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) shape.append(", ");
            shape.append(dims[i]);
        }
        if (dims.length == 1) shape.append(',');
        shape.append(')');
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        // magic (6) + version (2) + length (2) + dict + padding + '\n' is a multiple of 64
        int total = 10 + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String header = dict + " ".repeat(padded - total) + "\n";
        float[] data = array.data();
        ByteBuffer out = ByteBuffer.allocate(padded + data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        out.put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (float v : data) out.putFloat(v);
        return out.array();
    }

    private static float unsignedToFloat(long v) {
        return v >= 0 ? v : (float) (v >>> 1) * 2f; // the low bit is below float precision here
    }

    private static String group(Pattern p, String header, Path file, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw bad(file, "header has no '" + key + "' entry: " + header.strip());
        return m.group(1);
    }

    private static Shape parseShape(String text, Path file) {
        List<Long> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) continue;
            if (t.endsWith("L")) t = t.substring(0, t.length() - 1); // Python 2 longs
            try {
                dims.add(Long.parseLong(t));
            } catch (NumberFormatException e) {
                throw bad(file, "bad shape (" + text + ")");
            }
        }
        long[] d = new long[dims.size()];
        for (int i = 0; i < d.length; i++) d[i] = dims.get(i);
        Shape shape;
        try {
            shape = Shape.of(d);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw bad(file, "bad shape (" + text + "): " + e.getMessage());
        }
        // the values are read into one float[]: a larger array cannot be (and no file of this size is a Shears input)
        if (shape.size() > Integer.MAX_VALUE - 8)
            throw bad(file, "shape " + shape + " holds " + shape.size() + " values, more than one Java array holds (is the header corrupt?)");
        return shape;
    }

    private static ImportException bad(Path file, String message) {
        return new ImportException(message, file, null);
    }
}
