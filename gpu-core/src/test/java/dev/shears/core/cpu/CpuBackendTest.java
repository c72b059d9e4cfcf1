package dev.shears.core.cpu;

import dev.shears.core.backend.Activation;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the contract test does not cover: naming, construction and the error messages. */
class CpuBackendTest {
    private final CpuBackend be = new CpuBackend(2);

    @Test
    void nameSaysThreadsAndVectorWidth() {
        assertEquals("cpu", be.kind());
        assertTrue(be.name().matches("cpu \\(2 threads, \\d+-bit vectors\\)"), be.name());
        assertTrue(new CpuBackend(1).name().startsWith("cpu (1 thread, "), new CpuBackend(1).name());
        assertTrue(CpuBackend.create().threads() >= 1);
        assertThrows(IllegalArgumentException.class, () -> new CpuBackend(0));
    }

    @Test
    void sizeMismatchesNameTheOpAndTheShapes() {
        Tensor a = be.zeros(3, 4), b = be.zeros(5);
        var e = assertThrows(IllegalArgumentException.class, () -> be.add(a, b, a));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[3, 4]") && e.getMessage().contains("[5]"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> be.gemm(false, false, 3, 4, 5, 1f, a, a, 0f, a));
        assertTrue(e2.getMessage().startsWith("gemm A"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> be.addBias(a, be.zeros(3), 3, 4, 1));
        assertTrue(e3.getMessage().contains("addBias bias"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> be.copy(a, 10, b, 0, 5));
        assertTrue(e4.getMessage().contains("copy (source)"), e4.getMessage());
        var e5 = assertThrows(IllegalArgumentException.class, () -> be.activation(Activation.RELU, 0, 0, a, b));
        assertTrue(e5.getMessage().contains("RELU"), e5.getMessage());
    }

    @Test
    void batchedGemmWithEmptySumScalesEachC() {
        // k == 0: C_b = beta * C_b for every matrix of the batch; beta == 0 does not read C
        Tensor none = be.zeros(1);
        Tensor c = be.upload(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, Shape.of(2, 4));
        be.gemm(false, false, 2, 2, 0, 1f, none, 0, 0, none, 0, 0, 0.5f, c, 0, 4, 2);
        assertEquals(List.of(0.5f, 1f, 1.5f, 2f, 2.5f, 3f, 3.5f, 4f), boxed(be.download(c)));
        Tensor nan = be.upload(new float[]{Float.NaN, 1, 2, Float.NaN}, Shape.of(4));
        be.gemm(true, true, 1, 2, 0, 1f, none, 0, 0, none, 0, 0, 0f, nan, 0, 2, 2);
        assertEquals(List.of(0f, 0f, 0f, 0f), boxed(be.download(nan)));
    }

    private static List<Float> boxed(float[] a) {
        Float[] b = new Float[a.length];
        for (int i = 0; i < a.length; i++) b[i] = a[i];
        return List.of(b);
    }

    @Test
    void labelsOutOfRangeAreNamed() {
        Tensor logits = be.zeros(2, 3);
        Tensor labels = be.uploadInts(new int[]{1, 7}, Shape.of(2));
        var e = assertThrows(IllegalArgumentException.class, () -> be.softmaxCrossEntropy(logits, labels, null, 1f, 2, 3));
        assertTrue(e.getMessage().contains("label 7 of row 1"), e.getMessage());
    }

    @Test
    void wrongDtypeIsRejected() {
        Tensor bytes = be.allocate(Shape.of(4), DType.UINT8);
        assertThrows(IllegalArgumentException.class, () -> be.scale(bytes, 2f));
        assertThrows(IllegalArgumentException.class, () -> be.copy(bytes, be.zeros(4)));
    }

    @Test
    void dropoutHashDocumentedProperties() {
        // threshold: rate * 2^24 truncated; rate 0 keeps everything
        assertEquals(0, DropoutHash.threshold(0f));
        assertEquals(1 << 23, DropoutHash.threshold(0.5f));
        assertThrows(IllegalArgumentException.class, () -> DropoutHash.threshold(1f));
        for (int i = 0; i < 1000; i++) assertTrue(DropoutHash.keep(42, i, 0));
        // independent of evaluation order and stable across calls
        assertEquals(DropoutHash.mix(7, 123), DropoutHash.mix(7, 123));
        assertTrue(DropoutHash.mix(7, 123) != DropoutHash.mix(8, 123));
        assertEquals(2f, DropoutHash.scale(0.5f));
    }

    @Test
    void magnitudeThresholdsRejectsMissingOutputs() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> be.magnitudeThresholds(List.of(be.zeros(3), be.zeros(3)), new long[]{1, 1}, false, new float[1], new long[2], new long[2]));
        assertTrue(e.getMessage().contains("shorter"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> be.magnitudeThresholds(List.of(), new long[]{1}, true, new float[0], new long[0], new long[0]));
    }
}
