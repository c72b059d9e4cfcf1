package dev.shears.core.optim;

import dev.shears.core.nn.Parameter;

import java.util.List;

/**
 * Updates a fixed set of trainable parameters from their gradients, one fused masked backend op
 * per parameter: where a parameter carries a mask, the gradient is masked before the update, the
 * weights are re-masked after it and the optimizer state (momentum, Adam moments) of masked
 * weights is zeroed, so pruned weights stay exactly zero. Masks are read at every step, so a
 * pruner may add or change them between steps. State tensors are allocated once, at
 * construction; {@link #step} allocates nothing.
 */
public interface Optimizer extends AutoCloseable {

    /** One update of every parameter with learning rate {@code lr}. */
    void step(float lr);

    /** Number of steps taken so far. */
    long steps();

    /** The parameters this optimizer updates (trainable ones with a gradient), in model order. */
    List<Parameter> parameters();

    /** A short description for logs and reports, e.g. {@code sgd(momentum=0.9, nesterov, wd=5e-4)}. */
    String describe();

    /**
     * The state tensors a run needs to continue exactly (for checkpoints), by a stable name
     * ({@code <parameter>/velocity}, {@code <parameter>/m}, {@code <parameter>/v}), in a fixed
     * order; empty when the optimizer keeps none (SGD without momentum). The tensors are the
     * live ones: download them to save, write into them to restore.
     */
    java.util.SequencedMap<String, dev.shears.core.tensor.Tensor> state();

    /** Sets the step count, restoring a saved run (Adam's bias correction depends on it). */
    void restoreSteps(long steps);

    /** Releases the state tensors. */
    @Override void close();

    /** The parameters an optimizer should update: trainable, bound, with a gradient. */
    static List<Parameter> trainable(List<Parameter> all) {
        return all.stream().filter(p -> p.trainable() && p.value() != null && p.grad() != null).toList();
    }
}
