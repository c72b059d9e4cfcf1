package dev.shears.io.onnx;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The folding steps on small tensors whose results follow from the ONNX spec by hand. */
class ConstantFoldingTest {

    /** Two vectors of 46341 int64 values broadcast to 2^31-1: 16 GB, refused before allocating instead of running out of memory. */
    @Test void broadcastLargerThanTheHeapIsRefused() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() < 16L << 30, "the heap holds 16 GB: the result would fit");
        TensorData col = TensorData.ofLongs(new long[]{46340, 1}, new long[46340]);
        TensorData row = TensorData.ofLongs(new long[]{46341}, new long[46341]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConstantFolding.arithmetic("Add", col, row));
        assertTrue(e.getMessage().contains("the broadcast result [46340, 46341] needs"), e.getMessage());
    }

    @Test void arithmeticBroadcastsLikeNumpy() {
        TensorData col = TensorData.ofLongs(new long[]{2, 1}, new long[]{10, 20});
        TensorData row = TensorData.ofLongs(new long[]{3}, new long[]{1, 2, 3});
        TensorData sum = ConstantFolding.arithmetic("Add", col, row);
        assertArrayEquals(new long[]{2, 3}, sum.dims());
        assertArrayEquals(new long[]{11, 12, 13, 21, 22, 23}, sum.longs());
        TensorData diff = ConstantFolding.arithmetic("Sub", row, col);
        assertArrayEquals(new long[]{-9, -8, -7, -19, -18, -17}, diff.longs());
        // integer Div truncates toward zero, as ONNX Runtime's int64 Div does
        TensorData q = ConstantFolding.arithmetic("Div", TensorData.ofLongs(new long[]{2}, new long[]{7, -7}), TensorData.ofLongs(new long[0], new long[]{2}));
        assertArrayEquals(new long[]{3, -3}, q.longs());
        assertThrows(IllegalArgumentException.class, () -> ConstantFolding.arithmetic("Mul", row, TensorData.ofLongs(new long[]{2}, new long[]{1, 2})));
    }

    @Test void gatherAlongAnInnerAxisWithNegativeAndMatrixIndices() {
        TensorData m = TensorData.ofFloats(new long[]{2, 3}, new float[]{0, 1, 2, 3, 4, 5});
        TensorData g = ConstantFolding.gather(m, TensorData.ofLongs(new long[]{2, 2}, new long[]{-1, 0, 1, 1}), 1);
        assertArrayEquals(new long[]{2, 2, 2}, g.dims());
        assertArrayEquals(new float[]{2, 0, 1, 1, 5, 3, 4, 4}, g.floats());
        TensorData scalar = ConstantFolding.gather(ConstantFolding.int64Vector(8, 3, 5), TensorData.ofLongs(new long[0], new long[]{-2}), 0);
        assertArrayEquals(new long[0], scalar.dims());
        assertArrayEquals(new long[]{3}, scalar.longs());
        assertThrows(IllegalArgumentException.class, () -> ConstantFolding.gather(m, TensorData.ofLongs(new long[]{1}, new long[]{3}), 1));
    }

    @Test void concatAlongAxisOneInterleavesRows() {
        TensorData a = TensorData.ofLongs(new long[]{2, 1}, new long[]{1, 2});
        TensorData b = TensorData.ofLongs(new long[]{2, 2}, new long[]{3, 4, 5, 6});
        TensorData c = ConstantFolding.concat(List.of(a, b), 1);
        assertArrayEquals(new long[]{2, 3}, c.dims());
        assertArrayEquals(new long[]{1, 3, 4, 2, 5, 6}, c.longs());
    }

    @Test void squeezeUnsqueezeAndCast() {
        assertArrayEquals(new long[]{2, 1, 3, 1}, ConstantFolding.unsqueezeDims(new long[]{2, 3}, new long[]{3, 1}));
        assertArrayEquals(new long[]{2, 3}, ConstantFolding.squeezeDims(new long[]{1, 2, 1, 3}, null));
        assertArrayEquals(new long[]{1, 2, 3}, ConstantFolding.squeezeDims(new long[]{1, 2, 1, 3}, new long[]{2}));
        assertThrows(IllegalArgumentException.class, () -> ConstantFolding.squeezeDims(new long[]{2, 3}, new long[]{0}));
        TensorData i = ConstantFolding.cast(TensorData.ofFloats(new long[]{3}, new float[]{2.7f, -2.7f, 0f}), 7);
        assertArrayEquals(new long[]{2, -2, 0}, i.longs());
        assertArrayEquals(new float[]{2, -2, 0}, ConstantFolding.cast(i, 1).floats());
    }
}
