package dev.shears.io.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.TensorProto;

import java.io.IOException;
import java.nio.file.Path;

/**
 * ONNX {@code TensorProto} files ({@code .pb}), the format of ONNX's test data sets
 * ({@code input_0.pb}, {@code output_0.pb}) and one of the formats {@code shears predict} reads
 * and writes. Reading converts any supported numeric type to float32.
 */
public final class TensorProtoFiles {
    private TensorProtoFiles() {}

    /** Reads a serialized TensorProto; a corrupt or non-numeric one fails with an {@link ImportException}. */
    public static FloatArray read(Path file) {
        byte[] bytes = OnnxTensors.readAll(file);
        TensorProto t;
        try {
            t = TensorProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new ImportException("not a valid ONNX TensorProto file (truncated or corrupt): " + e.getMessage(),
                    file, null, java.util.List.of(), e);
        }
        if (!t.hasDataType() || t.getDataType() == TensorProto.DataType.UNDEFINED_VALUE)
            throw new ImportException("not an ONNX TensorProto file: no data_type", file, null);
        TensorData d = OnnxTensors.decode(t, file, t.getName().isEmpty() ? "tensor" : t.getName());
        return new FloatArray(Shape.of(d.dims()), d.asFloats());
    }

    /** The name stored in a TensorProto file (empty when it has none). */
    public static String name(Path file) {
        try {
            return TensorProto.parseFrom(OnnxTensors.readAll(file)).getName();
        } catch (InvalidProtocolBufferException e) {
            throw new ImportException("not a valid ONNX TensorProto file: " + e.getMessage(), file, null);
        }
    }

    /** Writes a FLOAT TensorProto (raw_data, little-endian) named {@code name} (may be null), atomically. */
    public static void write(Path file, FloatArray array, String name) throws IOException {
        long[] dims = new long[array.shape().rank()];
        for (int i = 0; i < dims.length; i++) dims[i] = array.shape().dim(i);
        byte[] bytes = OnnxTensors.encodeFloats(name, dims, array.data()).toByteArray();
        dev.shears.core.util.AtomicFiles.write(file, o -> o.write(bytes));
    }
}
