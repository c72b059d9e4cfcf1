package dev.shears.core.cuda;

import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.kernels.OptimizerKernels;
import org.junit.jupiter.api.Test;

/**
 * Fused masked SGD / Adam against the CPU backend, bit for bit: the kernels evaluate the CPU
 * twin's expressions in the same order with IEEE float operations (nvcc --fmad=false, IEEE
 * division and sqrt), so no tolerance is needed. Several steps, with and without mask, velocity,
 * momentum, Nesterov, weight decay (coupled and decoupled), and both kernel variants.
 */
class OptimizerParityIT extends GpuParityFixture {
    private static final int N = 100_003; // not a multiple of 4: exercises the vector kernels' tail

    @Test
    void sgdMatchesTheCpuBitForBit() {
        for (boolean withMask : new boolean[] {false, true})
            for (boolean withVelocity : new boolean[] {false, true})
                for (boolean nesterov : new boolean[] {false, true})
                    for (OptimizerKernels.Variant v : OptimizerKernels.Variant.values())
                        sgd(withMask, withVelocity, nesterov, v);
    }

    private void sgd(boolean withMask, boolean withVelocity, boolean nesterov, OptimizerKernels.Variant variant) {
        String what = "sgd mask=" + withMask + " velocity=" + withVelocity + " nesterov=" + nesterov + " " + variant;
        Shape s = Shape.of(N);
        float[] w = Parity.uniform(N, 1, -1, 1), vel = Parity.uniform(N, 2, -0.1, 0.1);
        byte[] m = Parity.mask(N, 3, 0.7);
        Tensor cw = cpu.upload(w, s), cv = cpu.upload(vel, s), cm = cpu.uploadBytes(m, s);
        try (Tensor gw = gpu.upload(w, s); Tensor gv = gpu.upload(vel, s); Tensor gm = gpu.uploadBytes(m, s);
             Tensor gg = gpu.allocate(s, dev.shears.core.tensor.DType.FLOAT32)) {
            for (int step = 0; step < 3; step++) {
                float[] g = Parity.uniform(N, 10 + step, -0.5, 0.5);
                Tensor cg = cpu.upload(g, s);
                gpu.write(g, 0, gg, 0, N);
                cpu.sgdUpdate(cw, cg, withVelocity ? cv : null, withMask ? cm : null, 0.05f, 0.9f, 1e-4f, nesterov);
                gpu.optimizerKernels().sgd(((CudaTensor) gw).pointer(), ((CudaTensor) gg).pointer(),
                        withVelocity ? ((CudaTensor) gv).pointer() : 0, withMask ? ((CudaTensor) gm).pointer() : 0, N,
                        0.05f, 0.9f, 1e-4f, nesterov, variant);
            }
            Parity.assertBitExact(what + ": weights", cpu.download(cw), gpu.download(gw));
            if (withVelocity) Parity.assertBitExact(what + ": velocity", cpu.download(cv), gpu.download(gv));
        }
    }

    @Test
    void adamMatchesTheCpuBitForBit() {
        for (boolean withMask : new boolean[] {false, true})
            for (boolean decoupled : new boolean[] {false, true})
                for (OptimizerKernels.Variant v : OptimizerKernels.Variant.values())
                    adam(withMask, decoupled, v);
    }

    private void adam(boolean withMask, boolean decoupled, OptimizerKernels.Variant variant) {
        String what = "adam mask=" + withMask + " decoupled=" + decoupled + " " + variant;
        Shape s = Shape.of(N);
        float[] w = Parity.uniform(N, 4, -1, 1);
        byte[] m = Parity.mask(N, 5, 0.6);
        Tensor cw = cpu.upload(w, s), cm1 = cpu.allocate(s, dev.shears.core.tensor.DType.FLOAT32),
                cv1 = cpu.allocate(s, dev.shears.core.tensor.DType.FLOAT32), cm = cpu.uploadBytes(m, s);
        try (Tensor gw = gpu.upload(w, s); Tensor gm1 = gpu.allocate(s, dev.shears.core.tensor.DType.FLOAT32);
             Tensor gv1 = gpu.allocate(s, dev.shears.core.tensor.DType.FLOAT32); Tensor gm = gpu.uploadBytes(m, s);
             Tensor gg = gpu.allocate(s, dev.shears.core.tensor.DType.FLOAT32)) {
            for (int step = 1; step <= 4; step++) {
                float[] g = Parity.uniform(N, 20 + step, -0.5, 0.5);
                Tensor cg = cpu.upload(g, s);
                gpu.write(g, 0, gg, 0, N);
                cpu.adamUpdate(cw, cg, cm1, cv1, withMask ? cm : null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, step);
                gpu.optimizerKernels().adam(((CudaTensor) gw).pointer(), ((CudaTensor) gg).pointer(), ((CudaTensor) gm1).pointer(),
                        ((CudaTensor) gv1).pointer(), withMask ? ((CudaTensor) gm).pointer() : 0, N,
                        1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, step, variant);
            }
            Parity.assertBitExact(what + ": weights", cpu.download(cw), gpu.download(gw));
            Parity.assertBitExact(what + ": m", cpu.download(cm1), gpu.download(gm1));
            Parity.assertBitExact(what + ": v", cpu.download(cv1), gpu.download(gv1));
        }
    }

    @Test
    void backendEntryPointsAgreeToo() {
        Shape s = Shape.of(N);
        float[] w = Parity.uniform(N, 7, -1, 1), g = Parity.uniform(N, 8, -1, 1);
        byte[] m = Parity.mask(N, 9, 0.5);
        Tensor cw = cpu.upload(w, s), cg = cpu.upload(g, s), cv = cpu.allocate(s, dev.shears.core.tensor.DType.FLOAT32),
                cm = cpu.uploadBytes(m, s);
        cpu.sgdUpdate(cw, cg, cv, cm, 0.1f, 0.9f, 0f, true);
        try (Tensor gw = gpu.upload(w, s); Tensor gg = gpu.upload(g, s); Tensor gv = gpu.allocate(s, dev.shears.core.tensor.DType.FLOAT32);
             Tensor gm = gpu.uploadBytes(m, s)) {
            gpu.sgdUpdate(gw, gg, gv, gm, 0.1f, 0.9f, 0f, true);
            Parity.assertBitExact("sgdUpdate via the backend", cpu.download(cw), gpu.download(gw));
        }
    }
}
