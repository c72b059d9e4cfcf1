package dev.shears.core.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Keras/TensorFlow 'same' padding (also ONNX auto_pad SAME_UPPER), the one formula both importers use. */
class ConvGeometryTest {

    @Test
    void samePaddingGivesCeilOutputWithTheOddPixelAfter() {
        assertArrayEquals(new int[]{0, 1}, ConvGeometry.samePadding(8, 3, 2, 1));  // out 4: 3*2+3-8 = 1
        assertArrayEquals(new int[]{1, 1}, ConvGeometry.samePadding(5, 3, 1, 1));
        assertArrayEquals(new int[]{0, 0}, ConvGeometry.samePadding(4, 2, 2, 1));  // windows tile exactly
        assertArrayEquals(new int[]{2, 2}, ConvGeometry.samePadding(7, 3, 1, 2));  // dilated: effective kernel 5
        assertArrayEquals(new int[]{0, 0}, ConvGeometry.samePadding(5, 1, 3, 1));  // a 1-wide kernel needs none even when the stride skips
        for (int in = 1; in <= 20; in++)
            for (int k = 1; k <= 7; k++)
                for (int s = 1; s <= 4; s++)
                    for (int d = 1; d <= 3; d++) {
                        int[] p = ConvGeometry.samePadding(in, k, s, d);
                        String what = "in " + in + " k " + k + " s " + s + " d " + d;
                        assertTrue(p[0] >= 0 && p[1] - p[0] >= 0 && p[1] - p[0] <= 1, what + ": " + p[0] + ", " + p[1]);
                        int out = (in + s - 1) / s;
                        int effective = (k - 1) * d + 1;
                        if (in + p[0] + p[1] >= effective) {
                            ConvGeometry g = new ConvGeometry(1, in, in, k, k, s, s, p[0], p[0], p[1], p[1], d, d, false);
                            assertEquals(out, g.outH(), what);
                        }
                        // minimal: one pixel less no longer reaches the last of the ceil(in / s) windows
                        if (p[0] + p[1] > 0) assertTrue((out - 1) * s + effective > in + p[0] + p[1] - 1, what);
                    }
        assertThrows(IllegalArgumentException.class, () -> ConvGeometry.samePadding(8, 3, 0, 1));
    }
}
