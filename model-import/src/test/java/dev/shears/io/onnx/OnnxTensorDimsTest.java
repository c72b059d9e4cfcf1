package dev.shears.io.onnx;

import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.SparseTensorProto;
import dev.shears.io.onnx.proto.TensorProto;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A tensor's dims are checked before anything is sized by them, alike for a dense tensor and a
 * sparse one: no negative dimension, no product that overflows, at most 2^31-1 elements; each
 * error names the file and the tensor.
 */
class OnnxTensorDimsTest {
    private static final Path FILE = Path.of("m.onnx");

    private static TensorProto dense(long... dims) {
        TensorProto.Builder b = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE);
        for (long d : dims) b.addDims(d);
        return b.build();
    }

    private static SparseTensorProto sparse(long... dims) {
        SparseTensorProto.Builder b = SparseTensorProto.newBuilder()
                .setValues(OnnxTensors.encodeFloats("s", new long[]{1}, new float[]{1f}))
                .setIndices(OnnxTensors.encodeLongs(null, new long[]{1}, new long[]{0}));
        for (long d : dims) b.addDims(d);
        return b.build();
    }

    private static void assertRefused(String expected, String tensor, org.junit.jupiter.api.function.Executable decode) {
        ImportException e = assertThrows(ImportException.class, decode);
        assertEquals(FILE, e.file());
        assertEquals(tensor, e.node());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test void aDenseTensorsBadDimsAreRefusedByName() {
        assertRefused("tensor has a negative dimension -2", "w", () -> OnnxTensors.decode(dense(3, -2), FILE, "init"));
        assertRefused("tensor of dims [4611686018427387904, 4] is too large", "w", () -> OnnxTensors.decode(dense(1L << 62, 4), FILE, "init"));
        assertRefused("tensor of 2147483648 elements is larger than 2^31-1", "w", () -> OnnxTensors.decode(dense(1L << 16, 1L << 15), FILE, "init"));
    }

    @Test void aSparseTensorsBadDimsAreRefusedByNameAndSaySparse() {
        assertRefused("sparse tensor has a negative dimension -2", "s", () -> OnnxTensors.decodeSparse(sparse(-2, 3), FILE, "init"));
        assertRefused("sparse tensor of dims [4611686018427387904, 4] is too large", "s", () -> OnnxTensors.decodeSparse(sparse(1L << 62, 4), FILE, "init"));
        assertRefused("sparse tensor of 2147483648 elements is larger than 2^31-1", "s",
                () -> OnnxTensors.decodeSparse(sparse(1L << 16, 1L << 15), FILE, "init"));
    }

    @Test void dimsWithinTheLimitsDecode() {
        assertEquals(1, OnnxTensors.decodeSparse(sparse(1), FILE, "init").asFloats().length);
        assertArrayEquals(new long[]{2, 3}, OnnxTensors.decodeSparse(sparse(2, 3), FILE, "init").dims());
    }
}
