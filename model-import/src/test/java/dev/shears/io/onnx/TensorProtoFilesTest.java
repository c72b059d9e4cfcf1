package dev.shears.io.onnx;

import dev.shears.core.tensor.Shape;
import dev.shears.io.FloatArray;
import dev.shears.io.ImportException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** ONNX TensorProto (.pb) files as `shears predict` reads and writes them. */
class TensorProtoFilesTest {
    @TempDir Path dir;

    @Test
    void readsTheOnnxTestDataInputs() {
        FloatArray a = TensorProtoFiles.read(TestData.pytorchInput("test_Conv2d"));
        assertEquals(4, a.shape().rank());
        assertEquals(a.shape().size(), a.data().length);
    }

    @Test
    void writeThenReadIsExactAndKeepsTheName() throws IOException {
        FloatArray a = new FloatArray(Shape.of(2, 3), new float[]{1.5f, -0f, 0f, Float.MIN_VALUE, -7f, 3e30f});
        Path p = dir.resolve("t.pb");
        TensorProtoFiles.write(p, a, "output_0");
        FloatArray back = TensorProtoFiles.read(p);
        assertEquals(a.shape(), back.shape());
        for (int i = 0; i < 6; i++) assertEquals(Float.floatToRawIntBits(a.data()[i]), Float.floatToRawIntBits(back.data()[i]));
        assertEquals("output_0", TensorProtoFiles.name(p));
    }

    /**
     * A tensor whose dims declare 2^31-1 values but whose typed field holds a few is refused
     * before its array is allocated (it was an 8 GB allocation, an OutOfMemoryError on a smaller heap).
     */
    @Test
    void dimsLargerThanTheStoredValuesAreRefusedBeforeAllocating() throws IOException {
        for (int type : new int[]{1, 11, 10, 7, 6}) { // FLOAT, DOUBLE, FLOAT16, INT64, INT32
            var t = dev.shears.io.onnx.proto.TensorProto.newBuilder().addDims(Integer.MAX_VALUE).setDataType(type).build();
            Path p = dir.resolve("huge" + type + ".pb");
            Files.write(p, t.toByteArray());
            ImportException e = assertThrows(ImportException.class, () -> TensorProtoFiles.read(p), "type " + type);
            assertEquals(p, e.file());
            assertTrue(e.getMessage().contains("holds 0 values, the dims need 2147483647"), e.getMessage());
        }
    }

    @Test
    void typedFieldsAndOtherElementTypesDecode() throws IOException {
        var t = dev.shears.io.onnx.proto.TensorProto.newBuilder().addDims(3).setDataType(11) // DOUBLE
                .addDoubleData(1.25).addDoubleData(-2).addDoubleData(0.5).build();
        Path p = dir.resolve("d.pb");
        Files.write(p, t.toByteArray());
        assertArrayEquals(new float[]{1.25f, -2f, 0.5f}, TensorProtoFiles.read(p).data());
        var h = dev.shears.io.onnx.proto.TensorProto.newBuilder().addDims(2).setDataType(10) // FLOAT16 bits in int32_data
                .addInt32Data(0x3c00).addInt32Data(0xc000).build();
        Files.write(p, h.toByteArray());
        assertArrayEquals(new float[]{1f, -2f}, TensorProtoFiles.read(p).data());
    }

    @Test
    void truncatedOrWrongFilesFailClearly() throws IOException {
        byte[] full = Files.readAllBytes(TestData.pytorchOutput("test_Conv2d"));
        Path cut = dir.resolve("cut.pb");
        Files.write(cut, Arrays.copyOf(full, full.length - 7));
        ImportException e = assertThrows(ImportException.class, () -> TensorProtoFiles.read(cut));
        assertTrue(e.getMessage().contains("cut.pb") && e.getMessage().contains("truncated"), e.getMessage());
        Path text = dir.resolve("text.pb");
        Files.writeString(text, "hello");
        assertThrows(ImportException.class, () -> TensorProtoFiles.read(text));
    }
}
