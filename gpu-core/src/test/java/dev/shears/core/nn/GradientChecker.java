package dev.shears.core.nn;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks a layer's backward pass against central finite differences of its forward pass.
 *
 * <p>The scalar probed is {@code L = sum(y * R)} for a fixed random R, accumulated in double from
 * the float32 outputs; its gradient with respect to y is R, which is what backward receives.
 * Each input element and each trainable parameter element (or a random sample of them when there
 * are many) is moved by +-h and {@code (L+ - L-) / 2h} is compared with the analytic gradient:
 * {@code |numeric - analytic| <= atol + rtol * max(|numeric|, |analytic|)}.
 *
 * <p>Tolerance, and why: the layers compute in float32, so each output carries a rounding error
 * of about 6e-8 relative; over the ~10^2-10^3 outputs of these small cases L is off by ~1e-6,
 * which the division by 2h = 2e-2 turns into ~1e-4. The central difference's truncation error is
 * h^2/6 * L''' ~ 2e-5 for the smooth layers here (zero for piecewise-linear ones, whose inputs
 * are kept at least 2.5h away from every kink). Hence the defaults atol = 2e-3, rtol = 1e-2: ten
 * times the expected error, far below the size of a wrong gradient (typically 0.1-1).
 */
public final class GradientChecker {
    public static final double DEFAULT_H = 1e-2, DEFAULT_ATOL = 2e-3, DEFAULT_RTOL = 1e-2;

    private final Backend backend;
    private final SplittableRandom rng;
    private double h = DEFAULT_H, atol = DEFAULT_ATOL, rtol = DEFAULT_RTOL;
    /** most elements probed per tensor (a random sample beyond that) */
    private int maxProbes = 48;
    private boolean training = true;

    public GradientChecker(Backend backend, long seed) {
        this.backend = backend;
        this.rng = new SplittableRandom(seed);
    }

    public GradientChecker step(double h) { this.h = h; return this; }
    public GradientChecker tolerance(double atol, double rtol) { this.atol = atol; this.rtol = rtol; return this; }
    public GradientChecker maxProbes(int n) { this.maxProbes = n; return this; }
    public GradientChecker training(boolean t) { this.training = t; return this; }

    /** Uniform values in [-1, 1]. */
    public DoubleSupplier uniform() { return () -> rng.nextDouble() * 2 - 1; }

    /** Uniform magnitudes in [gap, 1] with a random sign: never within {@code gap} of 0 (a ReLU kink). */
    public DoubleSupplier awayFromZero(double gap) {
        return () -> (gap + rng.nextDouble() * (1 - gap)) * (rng.nextBoolean() ? 1 : -1);
    }

    /** Sets every parameter of the layer to seeded random values (positive where they must be) and zeroes the gradients. */
    public void bindParameters(Layer layer) {
        for (Parameter p : layer.parameters()) {
            float[] v = new float[p.shape().intSize()];
            for (int i = 0; i < v.length; i++) {
                double u = rng.nextDouble();
                v[i] = (float) switch (p.role()) {
                    case GAMMA, RUNNING_VAR -> 0.5 + u;       // a positive scale / variance
                    case SLOPE -> 0.05 + 0.4 * u;             // PReLU slopes in (0, 0.45)
                    default -> u * 2 - 1;
                };
            }
            p.setValue(backend.upload(v, p.shape()));
            p.setGrad(p.trainable() ? backend.allocate(p.shape(), DType.FLOAT32) : null);
        }
    }

    /** Random inputs of the given batched shapes. */
    public List<Tensor> inputs(DoubleSupplier gen, Shape... shapes) {
        List<Tensor> out = new ArrayList<>();
        for (Shape s : shapes) {
            float[] v = new float[s.intSize()];
            for (int i = 0; i < v.length; i++) v[i] = (float) gen.getAsDouble();
            out.add(backend.upload(v, s));
        }
        return out;
    }

    /** Runs the check on a layer whose parameters are bound; fails with the first mismatches. */
    public void check(Layer layer, List<Tensor> inputs) {
        ExecContext ctx = new ExecContext(backend, training, 1234);
        Tensor y0 = layer.forward(ctx, inputs);
        float[] r = new float[y0.shape().intSize()];
        for (int i = 0; i < r.length; i++) r[i] = (float) (rng.nextDouble() * 2 - 1);
        Tensor rt = backend.upload(r, y0.shape());

        for (Parameter p : layer.parameters()) if (p.grad() != null) backend.fill(p.grad(), 0f);
        List<Tensor> dxs = layer.backward(ctx, rt, true);
        List<float[]> inGrads = new ArrayList<>();
        for (Tensor d : dxs) inGrads.add(d == null ? null : backend.download(d));
        List<float[]> pGrads = new ArrayList<>();
        for (Parameter p : layer.parameters()) pGrads.add(p.grad() == null ? null : backend.download(p.grad()));

        List<String> errors = new ArrayList<>();
        for (int j = 0; j < inputs.size(); j++) {
            if (inGrads.get(j) == null) { errors.add("input " + j + ": backward returned no gradient"); continue; }
            probe(layer, ctx, inputs, r, inputs.get(j), inGrads.get(j), "input " + j, errors);
        }
        for (int j = 0; j < layer.parameters().size(); j++) {
            Parameter p = layer.parameters().get(j);
            if (pGrads.get(j) != null) probe(layer, ctx, inputs, r, p.value(), pGrads.get(j), p.name(), errors);
        }
        if (!errors.isEmpty())
            fail(layer + ": " + errors.size() + " gradient mismatch(es) (h=" + h + ", atol=" + atol + ", rtol=" + rtol + "), first: "
                    + String.join("; ", errors.subList(0, Math.min(6, errors.size()))));
    }

    private void probe(Layer layer, ExecContext ctx, List<Tensor> inputs, float[] r, Tensor target, float[] analytic,
                       String what, List<String> errors) {
        int n = target.shape().intSize();
        int[] idx = sample(n);
        float[] one = new float[1];
        for (int i : idx) {
            backend.download(target, i, one, 0, 1);
            float orig = one[0];
            double lp = lossAt(layer, ctx, inputs, r, target, i, (float) (orig + h));
            double lm = lossAt(layer, ctx, inputs, r, target, i, (float) (orig - h));
            one[0] = orig;
            backend.write(one, 0, target, i, 1);
            // the float step actually taken, which differs slightly from h
            double step = ((double) (float) (orig + h)) - ((double) (float) (orig - h));
            double num = (lp - lm) / step;
            double ana = analytic[i];
            if (!(Math.abs(num - ana) <= atol + rtol * Math.max(Math.abs(num), Math.abs(ana))))
                errors.add(what + "[" + i + "] numeric " + num + " analytic " + ana);
        }
    }

    private double lossAt(Layer layer, ExecContext ctx, List<Tensor> inputs, float[] r, Tensor target, int i, float v) {
        backend.write(new float[]{v}, 0, target, i, 1);
        float[] y = backend.download(layer.forward(ctx, inputs));
        double l = 0;
        for (int k = 0; k < y.length; k++) l += (double) y[k] * r[k];
        return l;
    }

    private int[] sample(int n) {
        if (n <= maxProbes) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            return all;
        }
        int[] s = new int[maxProbes];
        for (int i = 0; i < maxProbes; i++) s[i] = rng.nextInt(n);
        return s;
    }
}
