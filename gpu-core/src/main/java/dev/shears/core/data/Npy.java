package dev.shears.core.data;

import dev.shears.core.tensor.Shape;
import dev.shears.core.util.HeapBudget;

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
 * NumPy's {@code .npy} format (public spec: numpy.lib.format, "NEP 1"): the magic {@code \x93NUMPY},
 * a version byte pair, a little-endian header length (2 bytes in version 1, 4 in versions 2 and
 * 3), then an ASCII (version 3: UTF-8) Python dict literal
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }} padded with spaces and a
 * newline so that the data starts at a multiple of 64 bytes; the data follows, {@code shape}'s
 * product of elements of {@code descr}, in C (row-major) order unless {@code fortran_order}.
 *
 * <p>Reads bool, int8-64, uint8-64, float16, float32 and float64, either byte order ({@code <},
 * {@code >}, {@code |}, {@code =}); C order only. What {@code shears predict} reads its input from
 * and what {@code --data} reads NumPy data sets from ({@link NumpyData}). Writes float32,
 * little-endian, C order, version 1.0.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /**
     * Longest header read. A version 1 header is at most 65535 bytes by its 2-byte length; a
     * version 2/3 length is 4 bytes, and a damaged one would have us read gigabytes as text.
     * numpy itself refuses headers over 10,000 bytes by default ({@code max_header_size}); the
     * dtypes read here need under 200.
     */
    static final int MAX_HEADER = 1 << 16;
    private static final String SUPPORTED = "bool, int8-64, uint8-64, float16, float32, float64";

    private Npy() {}

    /**
     * A parsed {@code .npy} array, its values still in the file's bytes.
     *
     * @param shape  the array's shape (rank 0 for a scalar)
     * @param kind   numpy's type code without the byte order: {@code f4}, {@code u1}, {@code i8}, {@code b1}, ...
     * @param data   {@code shape.size()} elements of {@code kind}, C order, in the file's byte order (set on the buffer)
     * @param source the file (or archive entry) it came from, for messages
     */
    public record Array(Shape shape, String kind, ByteBuffer data, String source) {
        /** Number of elements. */
        public int count() { return shape.intSize(); }

        /** numpy's name of the dtype: {@code uint8}, {@code float32}, ... */
        public String dtype() { return dtypeName(kind); }

        /**
         * The values as float32, unscaled (uint8 255 stays 255.0), in one new array; checks first
         * that it fits in the free heap.
         */
        public float[] toFloats() {
            int n = count();
            HeapBudget.require(4L * n, source + ": " + shape + " " + dtype() + " as float32", DataException::new);
            float[] out = new float[n];
            switch (kind) {
                case "f4" -> data.asFloatBuffer().get(out);
                case "u1", "b1" -> { for (int i = 0; i < n; i++) out[i] = data.get(i) & 0xff; }
                default -> { for (int i = 0; i < n; i++) out[i] = (float) value(i); }
            }
            return out;
        }

        /**
         * Element {@code i} as a double (exact for every integer type up to 2^53, and for floats);
         * uint64 above 2^63 is read as its unsigned value.
         */
        public double value(int i) {
            return switch (kind) {
                case "f4" -> data.getFloat(i * 4);
                case "f8" -> data.getDouble(i * 8);
                case "f2" -> Float.float16ToFloat(data.getShort(i * 2));
                case "i4" -> data.getInt(i * 4);
                case "u4" -> data.getInt(i * 4) & 0xffffffffL;
                case "i8" -> data.getLong(i * 8);
                case "u8" -> { long v = data.getLong(i * 8); yield v >= 0 ? v : (v >>> 1) * 2.0 + (v & 1); }
                case "i2" -> data.getShort(i * 2);
                case "u2" -> data.getShort(i * 2) & 0xffff;
                case "i1" -> data.get(i);
                default -> data.get(i) & 0xff; // u1, b1
            };
        }
    }

    /**
     * Reads a {@code .npy} file, checking its size against the free heap first; a malformed,
     * truncated or unreadable one fails with a {@link DataException} naming the file.
     */
    public static Array read(Path file) {
        try {
            long size = Files.size(file);
            HeapBudget.require(size, file + " (" + size + " bytes)", DataException::new);
            return parse(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e + ")", e);
        }
    }

    /** Parses the bytes of a {@code .npy} file; {@code source} names it in errors. */
    public static Array parse(byte[] bytes, String source) {
        if (bytes.length < 10) throw bad(source, "file is " + bytes.length + " bytes, too short for a .npy header (at least 10)");
        for (int i = 0; i < MAGIC.length; i++)
            if (bytes[i] != MAGIC[i]) throw bad(source, "not a .npy file (the magic \\x93NUMPY is missing)");
        int major = bytes[6] & 0xff;
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int headerStart;
        switch (major) {
            case 1 -> { headerLen = bb.getShort(8) & 0xffff; headerStart = 10; }
            case 2, 3 -> {
                if (bytes.length < 12) throw bad(source, "truncated header: the file is " + bytes.length + " bytes");
                headerLen = bb.getInt(8) & 0xffffffffL;
                headerStart = 12;
            }
            default -> throw bad(source, "unsupported .npy version " + major + "." + (bytes[7] & 0xff) + " (supported: 1.0, 2.0, 3.0)");
        }
        if (headerLen > MAX_HEADER)
            throw bad(source, "header of " + headerLen + " bytes is longer than the " + MAX_HEADER + " read (is the file corrupt?)");
        if (headerStart + headerLen > bytes.length)
            throw bad(source, "truncated: the header of " + headerLen + " bytes runs past the end of the file (" + bytes.length + " bytes)");
        String header = new String(bytes, headerStart, (int) headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, source, "descr");
        if ("True".equals(group(FORTRAN, header, source, "fortran_order")))
            throw bad(source, "Fortran-ordered (column-major) arrays are not supported: save it C-ordered, "
                    + "np.save(f, np.ascontiguousarray(x)) (or np.savez(..., x=np.ascontiguousarray(x)))");
        Shape shape = parseShape(group(SHAPE, header, source, "shape"), source);
        int dataStart = (int) (headerStart + headerLen);

        if (descr.isEmpty()) throw bad(source, "dtype '' is empty (supported: " + SUPPORTED + ")");
        ByteOrder order = switch (descr.charAt(0)) {
            case '<', '|', '=' -> ByteOrder.LITTLE_ENDIAN; // '=' is the writer's native order: every numpy platform today is little-endian
            case '>' -> ByteOrder.BIG_ENDIAN;
            default -> throw bad(source, "dtype '" + descr + "' has no byte-order prefix");
        };
        String kind = descr.substring(1);
        int width = switch (kind) {
            case "f4", "i4", "u4" -> 4;
            case "f8", "i8", "u8" -> 8;
            case "f2", "i2", "u2" -> 2;
            case "i1", "u1", "b1" -> 1;
            default -> throw bad(source, "dtype '" + descr + "' is not supported (supported: " + SUPPORTED + "); convert it, e.g. x.astype(np.float32)");
        };
        long need = shape.size() * width;
        long have = bytes.length - dataStart;
        if (have < need)
            throw bad(source, "truncated: shape " + shape + " of " + dtypeName(kind) + " needs " + need + " data bytes, the file has " + have);
        ByteBuffer data = ByteBuffer.wrap(bytes, dataStart, (int) need).slice().order(order);
        return new Array(shape, kind, data, source);
    }

    /** Writes a float32, little-endian, C-order {@code .npy} (version 1.0), atomically. */
    public static void write(Path file, Shape shape, float[] data) throws IOException {
        byte[] bytes = toBytes(shape, data);
        dev.shears.core.util.AtomicFiles.write(file, o -> o.write(bytes));
    }

    /** A float32, little-endian, C-order {@code .npy} file (version 1.0) of {@code data} with {@code shape}. */
    public static byte[] toBytes(Shape shape, float[] data) {
        if (shape.size() != data.length) throw new IllegalArgumentException("shape " + shape + " holds " + shape.size() + " elements, data has " + data.length);
        int[] dims = shape.dims();
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) s.append(", ");
            s.append(dims[i]);
        }
        if (dims.length == 1) s.append(',');
        s.append(')');
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + s + ", }";
        // magic (6) + version (2) + length (2) + dict + padding + '\n' is a multiple of 64
        int total = 10 + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String header = dict + " ".repeat(padded - total) + "\n";
        ByteBuffer out = ByteBuffer.allocate(padded + data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        out.put(header.getBytes(StandardCharsets.ISO_8859_1));
        out.asFloatBuffer().put(data);
        return out.array();
    }

    static String dtypeName(String kind) {
        return switch (kind) {
            case "b1" -> "bool";
            case "f2" -> "float16";
            case "f4" -> "float32";
            case "f8" -> "float64";
            default -> (kind.charAt(0) == 'u' ? "uint" : "int") + 8 * (kind.charAt(1) - '0');
        };
    }

    private static String group(Pattern p, String header, String source, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw bad(source, "header has no '" + key + "' entry: " + header.strip());
        return m.group(1);
    }

    private static Shape parseShape(String text, String source) {
        List<Long> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) continue;
            if (t.endsWith("L")) t = t.substring(0, t.length() - 1); // Python 2 longs
            try {
                dims.add(Long.parseLong(t));
            } catch (NumberFormatException e) {
                throw bad(source, "bad shape (" + text + ")");
            }
        }
        long[] d = new long[dims.size()];
        for (int i = 0; i < d.length; i++) d[i] = dims.get(i);
        Shape shape;
        try {
            shape = Shape.of(d);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw bad(source, "bad shape (" + text + "): " + e.getMessage());
        }
        // the values are read into one float[]: a larger array cannot be (and no file of this size is a Shears input)
        if (shape.size() > Integer.MAX_VALUE - 8)
            throw bad(source, "shape " + shape + " holds " + shape.size() + " values, more than one Java array holds (is the header corrupt?)");
        return shape;
    }

    private static DataException bad(String source, String message) {
        return new DataException(source + ": " + message);
    }
}
