package dev.shears.pruning;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Tensor;

/**
 * An exact copy of one parameter's weights and mask, taken on the parameter's own backend (on
 * CUDA the copy stays on the device), so that a trial pruning of the parameter can be undone bit
 * for bit: {@link #restore} copies the weights back and puts the mask back as it was, including
 * "no mask" (the mask {@link MagnitudePruner} created for the trial is closed). Close the backup
 * when done with it. Sensitivity analysis undoes each trial with it; {@code shears bench sparse
 * --model --sparsity} prunes one loaded model to each level in turn from the same weights.
 */
public final class WeightBackup implements AutoCloseable {
    private final Backend backend;
    private final Parameter param;
    /** Copy of the weights, the parameter's shape, FLOAT32. */
    private final Tensor value;
    /** Copy of the mask (the parameter's shape, UINT8), or null when it had none. */
    private final Tensor mask;

    public WeightBackup(Backend backend, Parameter param) {
        if (param.value() == null) throw new IllegalStateException(param.name() + " is not bound to a backend");
        this.backend = backend;
        this.param = param;
        this.value = backend.allocate(param.shape(), DType.FLOAT32);
        Tensor m = null;
        try {
            backend.copy(param.value(), value);
            if (param.mask() != null) {
                m = backend.allocate(param.shape(), DType.UINT8);
                backend.copy(param.mask(), m);
            }
        } catch (RuntimeException e) {
            value.close();
            if (m != null) m.close();
            throw e;
        }
        this.mask = m;
    }

    /** Puts the weights and the mask back as they were when the backup was taken. */
    public void restore() {
        backend.copy(value, param.value());
        if (mask != null) {
            backend.copy(mask, param.mask());
        } else if (param.mask() != null) {
            param.mask().close();
            param.setMask(null);
        }
    }

    @Override public void close() {
        value.close();
        if (mask != null) mask.close();
    }
}
