package dev.shears.core.nn;

import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

/**
 * A named weight array of a layer, e.g. {@code dense_1/kernel}. Trainable parameters have a
 * gradient of the same shape; prunable ones (kernels of Dense and Conv2D) may carry a UINT8
 * mask (1 = kept, 0 = pruned): the invariant is that masked weights are exactly zero.
 */
public final class Parameter {

    /** What a parameter is for; the default pruning selection takes KERNEL only. */
    public enum Role { KERNEL, BIAS, GAMMA, BETA, RUNNING_MEAN, RUNNING_VAR, SLOPE, CONSTANT }

    private final String name;
    private final Role role;
    private final Shape shape;
    private final boolean trainable;
    private Tensor value;
    private Tensor grad;
    private Tensor mask;

    public Parameter(String name, Role role, Shape shape, boolean trainable) {
        this.name = name;
        this.role = role;
        this.shape = shape;
        this.trainable = trainable;
    }

    public String name() { return name; }
    public Role role() { return role; }
    public Shape shape() { return shape; }
    public boolean trainable() { return trainable; }
    /** Kernels of weight layers: what magnitude pruning selects by default. */
    public boolean prunableByDefault() { return role == Role.KERNEL; }

    /** The weights; null until the model is bound to a backend. */
    public Tensor value() { return value; }
    /** The gradient (same shape), null for non-trainable parameters. */
    public Tensor grad() { return grad; }
    /** The pruning mask (UINT8, same shape) or null when the parameter is dense. */
    public Tensor mask() { return mask; }

    public void setValue(Tensor value) {
        if (!value.shape().equals(shape) && value.size() != shape.size())
            throw new IllegalArgumentException(name + ": value of shape " + value.shape() + " for a parameter of shape " + shape);
        this.value = value;
    }
    public void setGrad(Tensor grad) { this.grad = grad; }
    public void setMask(Tensor mask) { this.mask = mask; }

    @Override public String toString() { return name + shape; }
}
