package dev.shears.io.keras;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static dev.shears.io.keras.KerasTestSupport.resource;
import static org.junit.jupiter.api.Assertions.*;

/** The format detector goes by content, not by file name; and the axis-order helper it relies on. */
class KerasFormatTest {
    @TempDir Path dir;

    @Test
    void detectsEachKerasKindByContent() throws Exception {
        assertEquals(Optional.of(KerasFormat.HDF5_FULL_MODEL), KerasFormat.detect(resource("fullconfigs/cnn/cnn_batch_norm.h5")));
        assertEquals(Optional.of(KerasFormat.HDF5_WEIGHTS), KerasFormat.detect(resource("examples/mnist_mlp/mnist_mlp_tf_keras_1_weights.h5")));
        assertEquals(Optional.of(KerasFormat.CONFIG_JSON), KerasFormat.detect(resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json")));
        Path renamed = dir.resolve("model.bin");
        Files.copy(resource("weights/dense_tensorflow_2.h5"), renamed);
        assertEquals(Optional.of(KerasFormat.HDF5_FULL_MODEL), KerasFormat.detect(renamed));
        Path notKeras = dir.resolve("plain.zip");
        Keras3ArchiveTest.zip(notKeras, java.util.Map.of("readme.txt", new byte[]{'h', 'i'}));
        assertEquals(Optional.empty(), KerasFormat.detect(notKeras), "a zip without config.json");
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello");
        assertEquals(Optional.empty(), KerasFormat.detect(text));
        Path empty = dir.resolve("empty.h5");
        Files.write(empty, new byte[0]);
        assertEquals(Optional.empty(), KerasFormat.detect(empty));
        // the importer's first step reads the first bytes only: the container, before anything opens it
        assertEquals(Optional.of(KerasFormat.Container.HDF5), KerasFormat.container(resource("examples/mnist_mlp/mnist_mlp_tf_keras_1_weights.h5")));
        assertEquals(Optional.of(KerasFormat.Container.HDF5), KerasFormat.container(renamed));
        assertEquals(Optional.of(KerasFormat.Container.ZIP), KerasFormat.container(notKeras));
        assertEquals(Optional.of(KerasFormat.Container.JSON), KerasFormat.container(resource("examples/mnist_mlp/mnist_mlp_tf_keras_2_config.json")));
        assertEquals(Optional.empty(), KerasFormat.container(text));
        assertEquals(Optional.empty(), KerasFormat.container(empty));
    }

    @Test
    void permuteDataMovesAxesAsDeclared() {
        // [2, 3] -> transpose
        float[] m = {0, 1, 2, 10, 11, 12};
        assertArrayEquals(new float[]{0, 10, 1, 11, 2, 12}, AxisOrder.permuteData(m, 1, new int[]{2, 3}, new int[]{1, 0}));
        // NCHW [C=2, H=1, W=2] -> NHWC via order (1, 2, 0), over a batch of 2
        float[] nchw = {1, 2, 3, 4, 5, 6, 7, 8};
        assertArrayEquals(new float[]{1, 3, 2, 4, 5, 7, 6, 8}, AxisOrder.permuteData(nchw, 2, new int[]{2, 1, 2}, AxisOrder.CHANNELS_LAST));
        int[] p = {2, 0, 1};
        assertArrayEquals(AxisOrder.identity(3), AxisOrder.compose(p, AxisOrder.inverse(p)));
        assertArrayEquals(new int[]{4, 2, 3}, AxisOrder.permuteDims(new int[]{2, 3, 4}, p));
    }
}
