package dev.shears.core.cuda;

import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Dropout draws exactly the CPU's mask (the shared counter-based hash) and scales identically. */
class DropoutParityIT extends GpuParityFixture {
    @Test
    void maskAndOutputsAreBitIdentical() {
        int n = 1_000_001;
        float[] x = Parity.uniform(n, 1, -2, 2), dy = Parity.uniform(n, 2, -1, 1);
        Shape s = Shape.of(n);
        for (float rate : new float[] {0f, 0.1f, 0.5f, 0.9f})
            for (long seed : new long[] {0L, 42L, -1L, Long.MIN_VALUE}) {
                String what = "rate " + rate + " seed " + seed;
                Tensor cx = cpu.upload(x, s), cy = cpu.allocate(s, DType.FLOAT32), ck = cpu.allocate(s, DType.UINT8);
                Tensor cdy = cpu.upload(dy, s), cdx = cpu.allocate(s, DType.FLOAT32);
                cpu.dropout(cx, cy, ck, rate, seed);
                cpu.dropoutBackward(cdy, ck, cdx, rate);
                try (Tensor gx = gpu.upload(x, s); Tensor gy = gpu.allocate(s, DType.FLOAT32); Tensor gk = gpu.allocate(s, DType.UINT8);
                     Tensor gdy = gpu.upload(dy, s); Tensor gdx = gpu.allocate(s, DType.FLOAT32)) {
                    gpu.dropout(gx, gy, gk, rate, seed);
                    gpu.dropoutBackward(gdy, gk, gdx, rate);
                    Parity.assertExact(what + ": keep mask", cpu.downloadBytes(ck), gpu.downloadBytes(gk));
                    Parity.assertBitExact(what + ": y", cpu.download(cy), gpu.download(gy));
                    Parity.assertBitExact(what + ": dx", cpu.download(cdx), gpu.download(gdx));
                }
            }
    }
}
