package dev.shears.core.optim;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Adam (Kingma & Ba 2015) with bias correction; with {@code decoupled} it is AdamW (Loshchilov &
 * Hutter 2019: the decay {@code lr*wd*w} is applied to the weights, not added to the gradient).
 * Each parameter is one call to {@link Backend#adamUpdate}.
 */
public final class Adam implements Optimizer {
    private final Backend backend;
    private final List<Parameter> params;
    /** First moments, one per parameter, each of that parameter's shape. */
    private final List<Tensor> m;
    /** Second moments, one per parameter, each of that parameter's shape. */
    private final List<Tensor> v;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final boolean decoupled;
    private long steps;

    public Adam(Backend backend, List<Parameter> params, float beta1, float beta2, float eps,
                float weightDecay, boolean decoupled) {
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("adam: beta1 " + beta1 + " outside [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("adam: beta2 " + beta2 + " outside [0, 1)");
        if (!(eps > 0) || Float.isInfinite(eps)) throw new IllegalArgumentException("adam: eps " + eps + " must be finite and > 0");
        if (!(weightDecay >= 0) || Float.isInfinite(weightDecay))
            throw new IllegalArgumentException("adam: weightDecay " + weightDecay + " must be finite and >= 0");
        this.backend = backend;
        this.params = Optimizer.trainable(params);
        if (this.params.isEmpty()) throw new IllegalArgumentException("adam: no trainable bound parameter with a gradient to update");
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        this.m = new ArrayList<>(this.params.size());
        this.v = new ArrayList<>(this.params.size());
        for (Parameter p : this.params) {
            m.add(backend.allocate(p.shape(), DType.FLOAT32));
            v.add(backend.allocate(p.shape(), DType.FLOAT32));
        }
    }

    /** Adam with the usual defaults (0.9, 0.999, 1e-8) and L2 decay added to the gradient. */
    public static Adam adam(Backend backend, List<Parameter> params, float weightDecay) {
        return new Adam(backend, params, 0.9f, 0.999f, 1e-8f, weightDecay, false);
    }

    /** AdamW with the usual defaults (0.9, 0.999, 1e-8) and decoupled decay. */
    public static Adam adamW(Backend backend, List<Parameter> params, float weightDecay) {
        return new Adam(backend, params, 0.9f, 0.999f, 1e-8f, weightDecay, true);
    }

    @Override public void step(float lr) {
        steps++;
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            backend.adamUpdate(p.value(), p.grad(), m.get(i), v.get(i), p.mask(),
                    lr, beta1, beta2, eps, weightDecay, decoupled, steps);
        }
    }

    @Override public long steps() { return steps; }

    @Override public List<Parameter> parameters() { return params; }

    /** First moment of the i-th parameter of {@link #parameters()}. */
    public Tensor firstMoment(int i) { return m.get(i); }

    /** Second moment of the i-th parameter of {@link #parameters()}. */
    public Tensor secondMoment(int i) { return v.get(i); }

    @Override public java.util.SequencedMap<String, Tensor> state() {
        java.util.SequencedMap<String, Tensor> s = new java.util.LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            s.put(params.get(i).name() + "/m", m.get(i));
            s.put(params.get(i).name() + "/v", v.get(i));
        }
        return s;
    }

    @Override public void restoreSteps(long steps) {
        if (steps < 0) throw new IllegalArgumentException("adam: step count " + steps + " must be >= 0");
        this.steps = steps;
    }

    @Override public String describe() {
        return (decoupled ? "adamw" : "adam") + "(beta1=" + beta1 + ", beta2=" + beta2 + ", eps=" + eps
                + ", weightDecay=" + weightDecay + ")";
    }

    @Override public void close() {
        for (Tensor t : m) t.close();
        for (Tensor t : v) t.close();
    }
}
