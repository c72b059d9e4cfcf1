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
    void jsonListsEveryShape() throws Exception {
        List<String> models = List.of("dense32x4096", "vgg19");
        com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(LayerShapes.json(models));
        List<String> keys = new java.util.ArrayList<>();
        j.fieldNames().forEachRemaining(keys::add);
        assertEquals(models, keys, "one entry per model, in order");
        for (String m : models) {
            List<LayerShapes.Layer> layers = LayerShapes.byName(m);
            assertEquals(layers.size(), j.get(m).size(), m);
            for (int i = 0; i < layers.size(); i++) {
                long[] dims = new long[j.get(m).get(i).size()];
                for (int d = 0; d < dims.length; d++) dims[d] = j.get(m).get(i).get(d).asLong();
                assertArrayEquals(layers.get(i).dims(), dims, m + " layer " + i);
            }
        }
        assertEquals("[64, 3, 3, 3]", j.get("vgg19").get(0).toString().replace(",", ", "));
        assertThrows(IllegalArgumentException.class, () -> LayerShapes.byName("alexnet"));
        assertEquals(LayerShapes.dense32().size(), LayerShapes.byName("dense32x4096").size());
        List<LayerShapes.Layer> small = LayerShapes.byName("dense3x64");
        assertEquals(3, small.size());
        assertArrayEquals(new long[] {64, 64}, small.get(2).dims());
        assertThrows(IllegalArgumentException.class, () -> LayerShapes.byName("dense0x64"));
    }
}
