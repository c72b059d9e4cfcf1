package dev.shears.core.nn;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.layers.Softmax;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

/**
 * Test-set loss and accuracy of a bound model. Models ending in logits are scored with the
 * fused softmax cross-entropy; models ending in a Softmax layer (most Keras files) are scored on
 * the Softmax's input, which gives the same loss without log(0).
 */
public final class Evaluator {
    private Evaluator() {}

    /** Mean cross-entropy loss, accuracy and the number of samples scored. */
    public record Result(double loss, double accuracy, int samples) {}

    public static Result evaluate(Model model, Dataset data, int batchSize) {
        return evaluateUntil(model, data, batchSize, denseForward(model));
    }

    /**
     * The model's own inference path as {@link #evaluateUntil} takes it: a batch and the node to
     * stop at, to that node's output (for a caller that wraps it, e.g. to count progress).
     */
    public static java.util.function.BiFunction<Tensor, String, Tensor> denseForward(Model model) {
        ExecContext ctx = ExecContext.inference(model.backend());
        return (x, node) -> node.equals(model.outputName()) ? model.forward(ctx, x) : model.forwardUntil(ctx, java.util.List.of(x), node);
    }

    /**
     * {@link #evaluate(Model, Dataset, int, java.util.function.Function)} through a path that runs
     * a batch up to a named node ({@code forwardUntil.apply(x, node)}), as the sparse models do.
     */
    public static Result evaluateUntil(Model model, Dataset data, int batchSize,
                                       java.util.function.BiFunction<Tensor, String, Tensor> forwardUntil) {
        String scored = logitsNode(model);
        return evaluate(model, data, batchSize, x -> forwardUntil.apply(x, scored));
    }

    /**
     * Scores {@code data} with any forward path of {@code model} (e.g. its planned sparse form):
     * {@code logitsOf} maps a batch [n, input shape] to the logits of {@link #logitsNode}.
     */
    public static Result evaluate(Model model, Dataset data, int batchSize, java.util.function.Function<Tensor, Tensor> logitsOf) {
        Backend be = model.backend();
        if (batchSize < 1) throw new IllegalArgumentException("batch size " + batchSize + " must be at least 1");
        if (model.inputs().size() != 1) throw new IllegalArgumentException("evaluation needs a single-input model, this one has " + model.inputs().size());
        Shape inShape = model.inputs().get(0).shape();
        if (inShape.size() != data.sampleSize())
            throw new IllegalArgumentException("the model takes inputs of shape " + inShape + " (" + inShape.size() + " values) but "
                    + data.name() + " has samples of shape " + data.sampleShape() + " (" + data.sampleSize() + " values)");
        int classes = (int) model.shapeOf(logitsNode(model)).size();
        if (classes < data.classes())
            throw new IllegalArgumentException("the model has " + classes + " outputs but " + data.name() + " has " + data.classes() + " classes");
        int per = data.sampleSize();
        int n = data.count();
        double loss = 0;
        long correct = 0;
        // Buffers allocated once a call (the labels uploaded whole), released at the end: only the
        // last batch can be partial, so it gets its own pair at most once.
        Tensor labels = be.uploadInts(data.labels(), Shape.of(n));
        Tensor x = be.allocate(inShape.withBatch(batchSize), DType.FLOAT32), y = be.allocate(Shape.of(batchSize), DType.INT32);
        Tensor xTail = null, yTail = null;
        try {
            for (int start = 0; start < n; start += batchSize) {
                int b = Math.min(batchSize, n - start);
                if (b < batchSize && xTail == null) {
                    xTail = be.allocate(inShape.withBatch(b), DType.FLOAT32);
                    yTail = be.allocate(Shape.of(b), DType.INT32);
                }
                Tensor xb = b == batchSize ? x : xTail, yb = b == batchSize ? y : yTail;
                be.write(data.features(), start * per, xb, 0, b * per);
                be.copy(labels, start, yb, 0, b);
                Tensor logits = logitsOf.apply(xb);
                loss += be.softmaxCrossEntropy(logits, yb, null, 1f, b, classes);
                correct += be.countCorrect(logits, yb, b, classes);
            }
        } finally {
            for (Tensor t : new Tensor[]{labels, x, y, xTail, yTail}) if (t != null) t.close();
        }
        return new Result(loss / n, (double) correct / n, n);
    }

    /** The name of the node whose output holds logits: the output, or the input of a final Softmax. */
    public static String logitsNode(Model model) {
        Layer last = model.layer(model.outputName());
        if (last instanceof Softmax s && !s.log()) {
            for (Model.Node node : model.nodes())
                if (node.name().equals(model.outputName())) return node.inputs().get(0);
        }
        return model.outputName();
    }
}
