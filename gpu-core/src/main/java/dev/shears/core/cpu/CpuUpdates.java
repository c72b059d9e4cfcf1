package dev.shears.core.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import static dev.shears.core.cpu.CpuBackend.S;

/**
 * The fused, masked optimizer steps of {@code Backend.sgdUpdate} / {@code adamUpdate}: one pass
 * over every array, vectorised, with a scalar tail computing the same expressions. Where the mask
 * is 0 the weight and the optimizer state are set to exactly 0 (even if they held NaN).
 */
final class CpuUpdates {
    private CpuUpdates() {}

    /** Bytes, as many lanes as {@link CpuBackend#S}, to read the UINT8 mask alongside the floats. */
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(S.length() * 8));

    private static VectorMask<Float> kept(byte[] mask, int i) {
        return ByteVector.fromArray(BS, mask, i).compare(VectorOperators.NE, (byte) 0).cast(S);
    }

    static void sgd(float[] w, float[] g, float[] vel, byte[] mask, int n,
                    float lr, float momentum, float wd, boolean nesterov) {
        FloatVector zero = FloatVector.zero(S);
        int i = 0;
        int ub = S.loopBound(n);
        for (; i < ub; i += S.length()) {
            FloatVector wv = FloatVector.fromArray(S, w, i);
            FloatVector gp = FloatVector.fromArray(S, g, i).add(wv.mul(wd));
            VectorMask<Float> k = mask == null ? null : kept(mask, i);
            if (k != null) gp = zero.blend(gp, k);
            FloatVector step = gp;
            if (vel != null) {
                FloatVector v = FloatVector.fromArray(S, vel, i).mul(momentum).add(gp);
                if (k != null) v = zero.blend(v, k);
                v.intoArray(vel, i);
                step = nesterov ? gp.add(v.mul(momentum)) : v;
            }
            FloatVector nw = wv.sub(step.mul(lr));
            if (k != null) nw = zero.blend(nw, k);
            nw.intoArray(w, i);
        }
        for (; i < n; i++) {
            boolean keep = mask == null || mask[i] != 0;
            float gp = keep ? g[i] + w[i] * wd : 0f;
            float step = gp;
            if (vel != null) {
                float v = keep ? vel[i] * momentum + gp : 0f;
                vel[i] = v;
                step = nesterov ? gp + v * momentum : v;
            }
            w[i] = keep ? w[i] - step * lr : 0f;
        }
    }

    static void adam(float[] w, float[] g, float[] m, float[] v, byte[] mask, int n,
                     float lr, float b1, float b2, float eps, float wd, boolean decoupled, float bc1, float bc2) {
        float cwd = decoupled ? 0f : wd;      // coupled (L2) decay enters the gradient
        float dwd = decoupled ? lr * wd : 0f; // decoupled (AdamW) decay acts on the weight
        float ob1 = 1 - b1, ob2 = 1 - b2;
        FloatVector zero = FloatVector.zero(S);
        int i = 0;
        int ub = S.loopBound(n);
        for (; i < ub; i += S.length()) {
            FloatVector wv = FloatVector.fromArray(S, w, i);
            FloatVector gp = FloatVector.fromArray(S, g, i).add(wv.mul(cwd));
            VectorMask<Float> k = mask == null ? null : kept(mask, i);
            if (k != null) gp = zero.blend(gp, k);
            FloatVector mv = FloatVector.fromArray(S, m, i).mul(b1).add(gp.mul(ob1));
            FloatVector vv = FloatVector.fromArray(S, v, i).mul(b2).add(gp.mul(gp).mul(ob2));
            FloatVector upd = mv.div(bc1).mul(lr).div(vv.div(bc2).lanewise(VectorOperators.SQRT).add(eps));
            FloatVector nw = wv.sub(upd.add(wv.mul(dwd)));
            if (k != null) {
                mv = zero.blend(mv, k);
                vv = zero.blend(vv, k);
                nw = zero.blend(nw, k);
            }
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            nw.intoArray(w, i);
        }
        for (; i < n; i++) {
            if (mask != null && mask[i] == 0) {
                w[i] = 0f;
                m[i] = 0f;
                v[i] = 0f;
                continue;
            }
            float wi = w[i];
            float gp = g[i] + wi * cwd;
            float mi = m[i] * b1 + gp * ob1;
            float vi = v[i] * b2 + gp * gp * ob2;
            m[i] = mi;
            v[i] = vi;
            float upd = mi / bc1 * lr / ((float) Math.sqrt(vi / bc2) + eps);
            w[i] = wi - (upd + wi * dwd);
        }
    }
}
