package dev.shears.core.optim;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Stochastic gradient descent with (optionally Nesterov) momentum and L2 weight decay, PyTorch's
 * formulation: g' = (g + wd*w) * mask; v = momentum*v + g'; w -= lr * (nesterov ? g' + momentum*v : v).
 * Each parameter is one call to {@link Backend#sgdUpdate}. With momentum 0 the velocity is
 * always just g', so none is kept: no memory per parameter, and the update is called with a null
 * velocity (the backends' plain-SGD path, the same result).
 */
public final class Sgd implements Optimizer {
    private final Backend backend;
    private final List<Parameter> params;
    /** One velocity per parameter, each of that parameter's shape; empty when momentum is 0. */
    private final List<Tensor> velocity;
    private final float momentum;
    private final boolean nesterov;
    private final float weightDecay;
    private long steps;

    /**
     * @param params      candidates; only trainable, bound parameters with a gradient are updated
     * @param momentum    in [0, 1)
     * @param nesterov    Nesterov momentum (needs momentum > 0)
     * @param weightDecay L2 coefficient added to the gradient, >= 0
     */
    public Sgd(Backend backend, List<Parameter> params, float momentum, boolean nesterov, float weightDecay) {
        if (!(momentum >= 0 && momentum < 1))
            throw new IllegalArgumentException("sgd: momentum " + momentum + " outside [0, 1)");
        if (nesterov && momentum == 0)
            throw new IllegalArgumentException("sgd: nesterov needs momentum > 0, got momentum 0");
        if (!(weightDecay >= 0) || Float.isInfinite(weightDecay))
            throw new IllegalArgumentException("sgd: weightDecay " + weightDecay + " must be finite and >= 0");
        this.backend = backend;
        this.params = Optimizer.trainable(params);
        if (this.params.isEmpty()) throw new IllegalArgumentException("sgd: no trainable bound parameter with a gradient to update");
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        this.velocity = new ArrayList<>(momentum > 0 ? this.params.size() : 0);
        if (momentum > 0) for (Parameter p : this.params) velocity.add(backend.allocate(p.shape(), DType.FLOAT32));
    }

    @Override public void step(float lr) {
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            backend.sgdUpdate(p.value(), p.grad(), velocity(i), p.mask(), lr, momentum, weightDecay, nesterov);
        }
        steps++;
    }

    @Override public long steps() { return steps; }

    @Override public List<Parameter> parameters() { return params; }

    /** The velocity of the i-th parameter of {@link #parameters()} (for tests and checkpoints); null when momentum is 0. */
    public Tensor velocity(int i) {
        java.util.Objects.checkIndex(i, params.size());
        return velocity.isEmpty() ? null : velocity.get(i);
    }

    @Override public java.util.SequencedMap<String, Tensor> state() {
        java.util.SequencedMap<String, Tensor> s = new java.util.LinkedHashMap<>();
        for (int i = 0; i < velocity.size(); i++) s.put(params.get(i).name() + "/velocity", velocity.get(i));
        return s;
    }

    @Override public void restoreSteps(long steps) {
        if (steps < 0) throw new IllegalArgumentException("sgd: step count " + steps + " must be >= 0");
        this.steps = steps;
    }

    @Override public String describe() {
        return "sgd(momentum=" + momentum + (nesterov ? ", nesterov" : "") + ", weightDecay=" + weightDecay + ")";
    }

    @Override public void close() {
        for (Tensor t : velocity) t.close();
    }
}
