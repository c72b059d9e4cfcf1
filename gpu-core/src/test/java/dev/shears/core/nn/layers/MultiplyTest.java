package dev.shears.core.nn.layers;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.GradientChecker;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The element-wise product layer (ONNX Mul of two activations): forward values and gradients. */
class MultiplyTest {
    private final Backend be = new CpuBackend(1);

    @Test void forwardIsTheElementWiseProduct() {
        Tensor a = be.upload(new float[]{1, 2, -3, 4}, Shape.of(2, 2));
        Tensor b = be.upload(new float[]{0.5f, -1, 2, 0}, Shape.of(2, 2));
        Tensor c = be.upload(new float[]{2, 2, 2, 2}, Shape.of(2, 2));
        Tensor y = new Multiply("mul").forward(ExecContext.inference(be), List.of(a, b, c));
        assertArrayEquals(new float[]{1, -4, -12, 0}, be.download(y));
    }

    @Test void gradientsMatchFiniteDifferences() {
        GradientChecker gc = new GradientChecker(be, 11);
        Multiply m = new Multiply("mul");
        gc.bindParameters(m);
        gc.check(m, gc.inputs(gc.uniform(), Shape.of(2, 3, 2), Shape.of(2, 3, 2), Shape.of(2, 3, 2)));
    }

    @Test void inputsOfDifferentShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Multiply("mul").outputShape(List.of(Shape.of(2), Shape.of(3))));
    }
}
