package dev.shears.io.onnx;

import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.StringStringEntryProto;
import dev.shears.io.onnx.proto.TensorProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Initializers whose elements lie in an external file ({@code data_location: EXTERNAL}): the file is
 * checked when the model loads (present, long enough) and read when the importer first asks for the
 * values, as raw_data is decoded on first use; a file that went missing or shrank in between gives
 * the error it would have given at load, naming the file. (Loading through the importer:
 * OnnxImportStructureTest#missingExternalDataNamesTheLocation.)
 */
class OnnxExternalDataTest {
    @TempDir Path dir;

    /** A FLOAT [4, 2] initializer "w" stored in weights.bin from byte {@code offset}. */
    private static TensorProto external(long offset) {
        return TensorProto.newBuilder().setName("w").addDims(4).addDims(2).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
                .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)))
                .build();
    }

    /** Writes weights.bin: {@code offset} bytes of padding, then the floats first, first + 1, ... (eight of them). */
    private Path writeWeights(long offset, float first) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate((int) offset + 32).order(ByteOrder.LITTLE_ENDIAN);
        bb.position((int) offset);
        for (int i = 0; i < 8; i++) bb.putFloat(first + i);
        return Files.write(dir.resolve("weights.bin"), bb.array());
    }

    private static float[] counting(float first) {
        float[] v = new float[8];
        for (int i = 0; i < 8; i++) v[i] = first + i;
        return v;
    }

    @Test
    void externalDataIsReadWhenFirstAskedFor() throws IOException {
        writeWeights(16, 0.5f);
        Path model = dir.resolve("m.onnx");
        TensorData w = OnnxTensors.decode(external(16), model, "w");
        assertEquals(8, w.size());
        writeWeights(16, 100f); // changed after the load: the values are those of the file when first read
        assertArrayEquals(counting(100f), w.floats());
        writeWeights(16, 7f);
        assertArrayEquals(counting(100f), w.floats(), "read once, then kept");
    }

    @Test
    void aDataFileMissingAtLoadOrAtFirstReadIsNamed() throws IOException {
        Path model = dir.resolve("m.onnx");
        ImportException atLoad = assertThrows(ImportException.class, () -> OnnxTensors.decode(external(0), model, "w"));
        assertTrue(atLoad.getMessage().contains("'weights.bin' not found") && atLoad.getMessage().contains(dir.resolve("weights.bin").toString()),
                atLoad.getMessage());
        assertEquals("w", atLoad.node());

        writeWeights(0, 1f);
        TensorData w = OnnxTensors.decode(external(0), model, "w");
        Files.delete(dir.resolve("weights.bin"));
        ImportException atRead = assertThrows(ImportException.class, w::floats);
        assertEquals(atLoad.getMessage(), atRead.getMessage());
        assertEquals(model, atRead.file());
    }

    @Test
    void aDataFileTooShortAtLoadOrAtFirstReadSaysWhichBytes() throws IOException {
        Path model = dir.resolve("m.onnx");
        Path data = dir.resolve("weights.bin");
        Files.write(data, new byte[20]);
        ImportException atLoad = assertThrows(ImportException.class, () -> OnnxTensors.decode(external(0), model, "w"));
        assertTrue(atLoad.getMessage().contains("external data file " + data + " has 20 bytes; the tensor needs bytes 0 to 32"),
                atLoad.getMessage());

        writeWeights(0, 1f);
        TensorData w = OnnxTensors.decode(external(0), model, "w");
        Files.write(data, new byte[20]); // truncated after the load
        ImportException atRead = assertThrows(ImportException.class, w::floats);
        assertEquals(atLoad.getMessage(), atRead.getMessage());
    }
}
