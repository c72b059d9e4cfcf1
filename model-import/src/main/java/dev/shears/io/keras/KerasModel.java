package dev.shears.io.keras;

import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;

import java.nio.file.Path;
import java.util.Map;

/**
 * An imported Keras model: the IR model (bound, weights loaded) and where each Keras layer's
 * output lives in it, for comparing per-layer activations with Keras.
 *
 * <p>Layout contract: the model's inputs and its output have exactly the shapes Keras declared
 * (a channels_last image input stays [H, W, C]); inside, images are NCHW, with Permute nodes
 * inserted where the Keras layout is needed (after the input, before Flatten/Reshape, at the
 * output). Feeding the tensors Keras was fed reproduces Keras' outputs.
 *
 * @param model        the IR model
 * @param layerOutputs Keras layer name -> the IR node holding its output and the axis order to
 *                     turn that node's NCHW-side output into the Keras tensor
 * @param file         the file the architecture came from
 * @param format       what kind of Keras file it was
 * @param kerasVersion the {@code keras_version} the file records, or null
 */
public record KerasModel(Model model, Map<String, LayerOutput> layerOutputs, Path file, KerasFormat format, String kerasVersion) {

    /**
     * Where a Keras layer's output is: IR node {@code node}, whose per-sample shape is
     * {@code irShape}; Keras' tensor has axis i = IR axis {@code order[i]} (batch excluded).
     */
    public record LayerOutput(String node, Shape irShape, int[] order) {
        /** A batch of this node's output, rearranged into the Keras layout (e.g. NCHW -> NHWC). */
        public float[] toKerasLayout(float[] irBatch, int batch) {
            return AxisOrder.permuteData(irBatch, batch, irShape.dims(), order);
        }
    }
}
