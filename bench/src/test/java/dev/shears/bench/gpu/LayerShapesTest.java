package dev.shears.bench.gpu;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The generated shapes reproduce the published parameter counts exactly. */
class LayerShapesTest {

    @Test
    void resnet50HasTorchvisionsParameterCount() {
        List<LayerShapes.Layer> layers = LayerShapes.resnet50();
        assertEquals(54, layers.size(), "53 convolutions and the fc layer");
        long weights = layers.stream().mapToLong(LayerShapes.Layer::size).sum();
        // every conv is followed by a batch norm (gamma and beta per output channel); fc has a bias
        long bn = 2 * layers.stream().filter(l -> l.dims().length == 4).mapToLong(LayerShapes.Layer::outChannels).sum();
        assertEquals(25_557_032L, weights + bn + 1000, "torchvision resnet50's trainable parameters");
    }

    @Test
    void vgg19HasThePublishedParameterCount() {
        List<LayerShapes.Layer> layers = LayerShapes.vgg19();
        assertEquals(19, layers.size());
        long weights = layers.stream().mapToLong(LayerShapes.Layer::size).sum();
        long biases = layers.stream().mapToLong(LayerShapes.Layer::outChannels).sum();
        assertEquals(143_667_240L, weights + biases, "VGG-19's parameters");
    }

    @Test
    void jsonListsEveryShape() {
        String j = LayerShapes.json(List.of("dense32x4096", "vgg19"));
        assertTrue(j.startsWith("{\"dense32x4096\": [[4096, 4096], "), j);
        assertTrue(j.contains("\"vgg19\": [[64, 3, 3, 3], [64, 64, 3, 3]"), j);
        assertThrows(IllegalArgumentException.class, () -> LayerShapes.byName("alexnet"));
    }
}
