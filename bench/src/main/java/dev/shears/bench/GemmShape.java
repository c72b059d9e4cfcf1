package dev.shears.bench;

import java.util.List;

/**
 * The SGEMM shapes benchmarked: LeNet-300-100 training at batch 128 (forward y = x W, weight
 * gradient dW = x^T dy with transA, input gradient dx = dy W^T with transB) and large squares.
 */
record GemmShape(String name, boolean transA, boolean transB, int m, int n, int k) {

    static final List<GemmShape> ALL = List.of(
            new GemmShape("lenet-fwd1", false, false, 128, 300, 784),
            new GemmShape("lenet-fwd2", false, false, 128, 100, 300),
            new GemmShape("lenet-fwd3", false, false, 128, 10, 100),
            new GemmShape("lenet-dW1", true, false, 784, 300, 128),
            new GemmShape("lenet-dW2", true, false, 300, 100, 128),
            new GemmShape("lenet-dW3", true, false, 100, 10, 128),
            new GemmShape("lenet-dX2", false, true, 128, 300, 100),
            new GemmShape("lenet-dX3", false, true, 128, 100, 10),
            new GemmShape("square-1024", false, false, 1024, 1024, 1024),
            new GemmShape("square-2048", false, false, 2048, 2048, 2048));

    static GemmShape named(String name) {
        for (GemmShape s : ALL) if (s.name.equals(name)) return s;
        throw new IllegalArgumentException("unknown GEMM shape '" + name + "'");
    }

    double flops() { return 2.0 * m * n * k; }
}
