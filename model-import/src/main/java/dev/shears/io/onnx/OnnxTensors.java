package dev.shears.io.onnx;

import com.google.protobuf.ByteString;
import dev.shears.core.util.HeapBudget;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.SparseTensorProto;
import dev.shears.io.onnx.proto.StringStringEntryProto;
import dev.shears.io.onnx.proto.TensorProto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Supplier;

/**
 * Decoding and encoding of ONNX {@code TensorProto} values. Element data may sit in
 * {@code raw_data} (fixed-width little-endian), in the typed fields ({@code float_data},
 * {@code int32_data}, {@code int64_data}, {@code double_data}, {@code uint64_data}), or in an
 * external file named by {@code external_data} (keys {@code location}, {@code offset},
 * {@code length}; the location is relative to the model file's folder).
 */
final class OnnxTensors {
    private OnnxTensors() {}

    /**
     * Decodes a tensor.
     *
     * @param file    the model (or .pb) file, for errors and to resolve external data
     * @param owner   the node or initializer name the tensor belongs to, for errors
     */
    static TensorData decode(TensorProto t, Path file, String owner) {
        String name = t.getName().isEmpty() ? owner : t.getName();
        if (t.hasSegment()) throw new ImportException("segmented tensors (TensorProto.segment) are not supported", file, name);
        long[] dims = dims(t.getDimsList());
        int n = elementCount(dims, "tensor", file, name);
        int type = t.getDataType();
        if (elementWidth(type) < 0)
            throw new ImportException("tensor element type " + typeName(type) + " is not supported"
                    + " (supported: FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT8-64, UINT8-64, BOOL)", file, name);
        Supplier<ByteBuffer> raw = rawBytes(t, file, name, n, type);
        if (raw == null) requireTypedCount(t, type, n, file, name); // before allocating n values: dims alone must not size an array
        // every check on the file is done: the elements are decoded (and external data read) when first read (a model that
        // a later check refuses does not pay for decoding its weights), by the same code either way
        boolean floating = switch (type) {
            case TensorProto.DataType.FLOAT_VALUE, TensorProto.DataType.DOUBLE_VALUE, TensorProto.DataType.FLOAT16_VALUE,
                 TensorProto.DataType.BFLOAT16_VALUE -> true;
            default -> false;
        };
        if (floating) return TensorData.lazyFloats(dims, () -> decodeFloats(t, raw == null ? null : raw.get(), type, n));
        return TensorData.lazyLongs(dims, () -> decodeLongs(t, raw == null ? null : raw.get(), type, n));
    }

    /**
     * The float elements of a checked tensor of a floating type: raw little-endian bytes, or the typed
     * field when raw is null (whose count {@link #requireTypedCount} has checked).
     */
    private static float[] decodeFloats(TensorProto t, ByteBuffer raw, int type, int n) {
        switch (type) {
            case TensorProto.DataType.FLOAT_VALUE -> {
                float[] v = new float[n];
                if (raw != null) raw.asFloatBuffer().get(v);
                else for (int i = 0; i < n; i++) v[i] = t.getFloatData(i);
                return v;
            }
            case TensorProto.DataType.DOUBLE_VALUE -> {
                float[] v = new float[n];
                if (raw != null) for (int i = 0; i < n; i++) v[i] = (float) raw.getDouble(i * 8);
                else for (int i = 0; i < n; i++) v[i] = (float) t.getDoubleData(i);
                return v;
            }
            case TensorProto.DataType.FLOAT16_VALUE, TensorProto.DataType.BFLOAT16_VALUE -> {
                boolean bf = type == TensorProto.DataType.BFLOAT16_VALUE;
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    int bits = (raw != null ? raw.getShort(i * 2) : t.getInt32Data(i)) & 0xffff;
                    v[i] = bf ? Float.intBitsToFloat(bits << 16) : Float.float16ToFloat((short) bits);
                }
                return v;
            }
            default -> throw new IllegalStateException("not a floating type: " + typeName(type));
        }
    }

    /**
     * The integer elements of a checked tensor of an integer or bool type: raw little-endian bytes, or the
     * typed field when raw is null (whose count {@link #requireTypedCount} has checked).
     */
    private static long[] decodeLongs(TensorProto t, ByteBuffer raw, int type, int n) {
        switch (type) {
            case TensorProto.DataType.INT64_VALUE -> {
                long[] v = new long[n];
                if (raw != null) raw.asLongBuffer().get(v);
                else for (int i = 0; i < n; i++) v[i] = t.getInt64Data(i);
                return v;
            }
            case TensorProto.DataType.INT32_VALUE, TensorProto.DataType.INT16_VALUE, TensorProto.DataType.INT8_VALUE,
                 TensorProto.DataType.UINT16_VALUE, TensorProto.DataType.UINT8_VALUE, TensorProto.DataType.BOOL_VALUE -> {
                long[] v = new long[n];
                if (raw != null) {
                    for (int i = 0; i < n; i++) {
                        v[i] = switch (type) {
                            case TensorProto.DataType.INT32_VALUE -> raw.getInt(i * 4);
                            case TensorProto.DataType.INT16_VALUE -> raw.getShort(i * 2);
                            case TensorProto.DataType.UINT16_VALUE -> raw.getShort(i * 2) & 0xffff;
                            case TensorProto.DataType.INT8_VALUE -> raw.get(i);
                            default -> raw.get(i) & 0xff;
                        };
                    }
                } else {
                    for (int i = 0; i < n; i++) v[i] = t.getInt32Data(i);
                }
                return v;
            }
            case TensorProto.DataType.UINT32_VALUE, TensorProto.DataType.UINT64_VALUE -> {
                long[] v = new long[n];
                if (raw != null) {
                    for (int i = 0; i < n; i++)
                        v[i] = type == TensorProto.DataType.UINT32_VALUE ? raw.getInt(i * 4) & 0xffffffffL : raw.getLong(i * 8);
                } else {
                    for (int i = 0; i < n; i++) v[i] = t.getUint64Data(i);
                }
                return v;
            }
            default -> throw new IllegalStateException("not an integer type: " + typeName(type));
        }
    }

    /**
     * Decodes a sparse tensor (values [NNZ] with indices either [NNZ] linear or [NNZ, rank] COO) into a
     * dense one with zeros elsewhere.
     */
    static TensorData decodeSparse(SparseTensorProto s, Path file, String owner) {
        String name = s.getValues().getName().isEmpty() ? owner : s.getValues().getName();
        long[] dims = dims(s.getDimsList());
        int count = elementCount(dims, "sparse tensor", file, name);
        float[] values = decode(s.getValues(), file, name).asFloats();
        long[] idx = s.hasIndices() ? decode(s.getIndices(), file, name + " (indices)").asLongs() : new long[0];
        int nnz = values.length;
        boolean coo = idx.length == (long) nnz * dims.length && dims.length > 1;
        if (!coo && idx.length != nnz)
            throw new ImportException("sparse tensor has " + nnz + " values but " + idx.length + " indices (expected " + nnz
                    + " linear or " + nnz + "x" + dims.length + " coordinates)", file, name);
        int[] flats = new int[nnz]; // checked now, from what the file holds; the dense array (sized by the dims alone) is built on first use
        for (int k = 0; k < nnz; k++) {
            long flat;
            if (coo) {
                flat = 0;
                for (int d = 0; d < dims.length; d++) {
                    long c = idx[k * dims.length + d];
                    if (c < 0 || c >= dims[d]) throw new ImportException("sparse index " + c + " out of range for dimension " + d + " of size " + dims[d], file, name);
                    flat = flat * dims[d] + c;
                }
            } else {
                flat = idx[k];
                if (flat < 0 || flat >= count) throw new ImportException("sparse index " + flat + " out of range for " + count + " elements", file, name);
            }
            flats[k] = (int) flat;
        }
        return TensorData.lazyFloats(dims, () -> {
            // a few values with damaged dims declare an array of any size: check it fits before allocating
            HeapBudget.require((long) count * Float.BYTES, "sparse tensor of dims " + java.util.Arrays.toString(dims), m -> new ImportException(m, file, name));
            float[] dense = new float[count];
            for (int k = 0; k < nnz; k++) dense[flats[k]] = values[k];
            return dense;
        });
    }

    /** A proto's repeated int64 dims as an array. */
    private static long[] dims(java.util.List<Long> dims) { return dims.stream().mapToLong(Long::longValue).toArray(); }

    /**
     * The elements of a tensor of {@code dims}, checked: no dimension below 0, and at most 2^31-1 in
     * all (the most one Java array holds). {@code what} ("tensor", "sparse tensor") begins each error.
     */
    private static int elementCount(long[] dims, String what, Path file, String name) {
        for (long d : dims) if (d < 0) throw new ImportException(what + " has a negative dimension " + d, file, name);
        long count;
        try {
            count = TensorData.count(dims);
        } catch (ArithmeticException e) {
            throw new ImportException(what + " of dims " + java.util.Arrays.toString(dims) + " is too large", file, name);
        }
        if (count > Integer.MAX_VALUE) throw new ImportException(what + " of " + count + " elements is larger than 2^31-1", file, name);
        return (int) count;
    }

    /** A FLOAT tensor with the elements in raw_data (little-endian), which keeps -0.0 and every bit. */
    static TensorProto encodeFloats(String name, long[] dims, float[] v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(v);
        return encodeRaw(name, dims, TensorProto.DataType.FLOAT_VALUE, bb);
    }

    /** An INT64 tensor (shapes, indices) with the elements in raw_data. */
    static TensorProto encodeLongs(String name, long[] dims, long[] v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.asLongBuffer().put(v);
        return encodeRaw(name, dims, TensorProto.DataType.INT64_VALUE, bb);
    }

    /** A tensor of this data type whose raw_data is the little-endian bytes in raw; name may be null. */
    private static TensorProto encodeRaw(String name, long[] dims, int dataType, ByteBuffer raw) {
        TensorProto.Builder b = TensorProto.newBuilder().setDataType(dataType).setRawData(ByteString.copyFrom(raw.array()));
        if (name != null) b.setName(name);
        for (long d : dims) b.addDims(d);
        return b.build();
    }

    static String typeName(int type) {
        TensorProto.DataType dt = TensorProto.DataType.forNumber(type);
        return dt == null ? "#" + type : dt.name();
    }

    static int elementWidth(int type) {
        return switch (type) {
            case TensorProto.DataType.FLOAT_VALUE, TensorProto.DataType.INT32_VALUE, TensorProto.DataType.UINT32_VALUE -> 4;
            case TensorProto.DataType.DOUBLE_VALUE, TensorProto.DataType.INT64_VALUE, TensorProto.DataType.UINT64_VALUE -> 8;
            case TensorProto.DataType.FLOAT16_VALUE, TensorProto.DataType.BFLOAT16_VALUE,
                 TensorProto.DataType.INT16_VALUE, TensorProto.DataType.UINT16_VALUE -> 2;
            case TensorProto.DataType.INT8_VALUE, TensorProto.DataType.UINT8_VALUE, TensorProto.DataType.BOOL_VALUE -> 1;
            default -> -1;
        };
    }

    /**
     * The element bytes from raw_data or external data (a little-endian buffer), or null when the typed fields hold
     * them. raw_data is checked and wrapped now; external data is checked now (its keys, its length, that the file
     * is there and long enough) and read when the supplier is first called, after checking the heap has room.
     */
    private static Supplier<ByteBuffer> rawBytes(TensorProto t, Path file, String name, int n, int type) {
        boolean external = t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
        if (!external && !t.hasRawData()) return null;
        int width = elementWidth(type); // decode refused an unsupported type (width -1) before calling this
        long need = (long) n * width;
        if (external) {
            ExternalData x = ExternalData.of(t, file, name, need);
            x.check(); // the file is there and holds the bytes: refused at load, as raw_data is, not when first read
            return () -> x.read().order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteString raw = t.getRawData();
        if (raw.size() != need)
            throw new ImportException("raw_data holds " + raw.size() + " bytes, the dims and " + typeName(type)
                    + " need " + need + " (truncated or corrupt tensor)", file, name);
        ByteBuffer bytes = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return () -> bytes;
    }

    /**
     * Where a tensor's external data lies: bytes {@code offset} to {@code offset + need} of {@code data}, the file
     * its {@code location} names relative to the model's folder. {@code file} and {@code name} are the model and the
     * tensor, for errors.
     */
    private record ExternalData(Path data, String location, long offset, long need, Path file, String name) {

        /** The entry's keys read and checked (location present, offset and length integers, length = need); no file access. */
        static ExternalData of(TensorProto t, Path file, String name, long need) {
            String location = null;
            long offset = 0, length = -1;
            for (StringStringEntryProto e : t.getExternalDataList()) {
                try {
                    switch (e.getKey()) {
                        case "location" -> location = e.getValue();
                        case "offset" -> offset = Long.parseLong(e.getValue().strip());
                        case "length" -> length = Long.parseLong(e.getValue().strip());
                        default -> { } // checksum and others: not verified
                    }
                } catch (NumberFormatException ex) {
                    throw new ImportException("external data " + e.getKey() + " '" + e.getValue() + "' is not an integer", file, name);
                }
            }
            if (location == null || location.isEmpty())
                throw new ImportException("tensor is stored externally but external_data has no 'location'", file, name);
            Path base = file == null || file.toAbsolutePath().getParent() == null ? Path.of(".") : file.toAbsolutePath().getParent();
            Path data = base.resolve(location).normalize();
            if (length >= 0 && length != need)
                throw new ImportException("external data length " + length + " bytes, but the dims and type need " + need, file, name);
            if (need > Integer.MAX_VALUE - 8)
                throw new ImportException("external data of " + need + " bytes is more than one Java array holds (2^31 - 9 bytes)", file, name);
            return new ExternalData(data, location, offset, need, file, name);
        }

        /** Checks the data file is there and holds bytes offset to offset + need; the errors {@link #read} gives too. */
        void check() {
            try {
                checkHolds(Files.size(data));
            } catch (IOException e) {
                throw failure(e);
            }
        }

        /** The need bytes at offset, read now (the file checked again: it may have changed since the load). */
        ByteBuffer read() {
            HeapBudget.require(need, "external data of " + location, m -> new ImportException(m, file, name));
            try (FileChannel ch = FileChannel.open(data, StandardOpenOption.READ)) {
                checkHolds(ch.size());
                ByteBuffer buf = ByteBuffer.allocate((int) need);
                long pos = offset;
                while (buf.hasRemaining()) {
                    int r = ch.read(buf, pos);
                    if (r < 0)
                        throw new ImportException("external data file " + data + " ended at byte " + pos + " while reading bytes "
                                + offset + " to " + (offset + need) + " (it changed while being read)", file, name);
                    pos += r;
                }
                return buf.flip();
            } catch (IOException e) {
                throw failure(e);
            }
        }

        private void checkHolds(long size) {
            if (offset < 0 || offset + need > size)
                throw new ImportException("external data file " + data + " has " + size + " bytes; the tensor needs bytes "
                        + offset + " to " + (offset + need) + " (truncated file or wrong offset)", file, name);
        }

        private ImportException failure(IOException e) {
            if (e instanceof NoSuchFileException)
                return new ImportException("external data file '" + location + "' not found (looked for " + data
                        + "); keep the data file beside the model, at the location the model names", file, name);
            return new ImportException("cannot read external data file " + data + ": " + e.getMessage(), file, name, java.util.List.of(), e);
        }
    }

    /**
     * Checks that the typed field holding the values (no raw_data) has as many as the dims say, so
     * that a damaged dimension (a 100-byte file declaring 2^31-1 floats) fails here instead of
     * allocating gigabytes first; the decoders then copy without checking again. {@link #decode}
     * has refused unsupported types before this.
     */
    private static void requireTypedCount(TensorProto t, int type, int n, Path file, String name) {
        switch (type) {
            case TensorProto.DataType.FLOAT_VALUE -> { if (t.getFloatDataCount() != n) throw countError(t.getFloatDataCount(), n, file, name, "float_data"); }
            case TensorProto.DataType.DOUBLE_VALUE -> { if (t.getDoubleDataCount() != n) throw countError(t.getDoubleDataCount(), n, file, name, "double_data"); }
            case TensorProto.DataType.INT64_VALUE -> { if (t.getInt64DataCount() != n) throw countError(t.getInt64DataCount(), n, file, name, "int64_data"); }
            case TensorProto.DataType.FLOAT16_VALUE, TensorProto.DataType.BFLOAT16_VALUE, TensorProto.DataType.INT32_VALUE,
                 TensorProto.DataType.INT16_VALUE, TensorProto.DataType.INT8_VALUE, TensorProto.DataType.UINT16_VALUE,
                 TensorProto.DataType.UINT8_VALUE, TensorProto.DataType.BOOL_VALUE -> {
                if (t.getInt32DataCount() != n) throw countError(t.getInt32DataCount(), n, file, name, "int32_data");
            }
            case TensorProto.DataType.UINT32_VALUE, TensorProto.DataType.UINT64_VALUE -> {
                if (t.getUint64DataCount() != n) throw countError(t.getUint64DataCount(), n, file, name, "uint64_data");
            }
            default -> { }
        }
    }

    private static ImportException countError(int have, int n, Path file, String name, String field) {
        return new ImportException(field + " holds " + have + " values, the dims need " + n + " (truncated or corrupt tensor)", file, name);
    }

    /** Reads a file fully, naming it in the error. */
    static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImportException("file not found", file, null);
        } catch (IOException e) {
            throw new ImportException("cannot read: " + e.getMessage(), file, null, java.util.List.of(), e);
        }
    }
}
