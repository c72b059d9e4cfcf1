package dev.shears.core.nn;

import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One node's operation in the model IR. A layer declares its parameters in its constructor
 * (shapes only); {@link Model} allocates and initialises them on a backend. Forward keeps what
 * backward needs (one model is driven by one thread at a time). Shapes passed to
 * {@link #outputShape} exclude the batch dimension; tensors passed to forward include it.
 * Images are NCHW.
 */
public abstract class Layer {
    private final String name;
    private final List<Parameter> parameters = new ArrayList<>();

    protected Layer(String name) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a layer needs a name");
        this.name = name;
    }

    public final String name() { return name; }

    /** The IR type name shown by inspect and reports, e.g. {@code Dense}. */
    public abstract String type();

    public final List<Parameter> parameters() { return Collections.unmodifiableList(parameters); }

    protected final Parameter addParameter(String suffix, Parameter.Role role, Shape shape, boolean trainable) {
        Parameter p = new Parameter(name + "/" + suffix, role, shape, trainable);
        parameters.add(p);
        return p;
    }

    /** Per-sample output shape for the given per-sample input shapes; validates them. */
    public abstract Shape outputShape(List<Shape> inputShapes);

    /** Computes the output for a batch. The returned tensor may be reused by the next call. */
    public abstract Tensor forward(ExecContext ctx, List<Tensor> inputs);

    /**
     * Given dLoss/dOutput of the last forward, accumulates parameter gradients (+=) and returns
     * dLoss/dInput for each input (an entry may be null where {@code needInputGrad} is false).
     */
    public abstract List<Tensor> backward(ExecContext ctx, Tensor gradOutput, boolean needInputGrad);

    /** Number of inputs the layer takes (-1: any number >= 1). */
    public int arity() { return 1; }

    @Override public String toString() { return type() + "(" + name + ")"; }
}
