package dev.shears.core.data;

import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static dev.shears.core.data.SampleLayout.Move.*;
import static org.junit.jupiter.api.Assertions.*;

/** Which data layouts feed which model inputs, and the in-place move of channels-last samples. */
class SampleLayoutTest {

    @Test void whichMoveFitsWhichShapes() {
        assertEquals(NONE, SampleLayout.moveFor(Shape.of(28, 28), Shape.of(1, 28, 28)));
        assertEquals(NONE, SampleLayout.moveFor(Shape.of(28, 28, 1), Shape.of(1, 28, 28)));
        assertEquals(NONE, SampleLayout.moveFor(Shape.of(1, 28, 28), Shape.of(784)), "a flat model takes any layout of its size");
        assertEquals(LAST_AXIS_FIRST, SampleLayout.moveFor(Shape.of(32, 32, 3), Shape.of(3, 32, 32)));
        assertEquals(LAST_AXIS_FIRST, SampleLayout.moveFor(Shape.of(8, 6, 3), Shape.of(1, 3, 8, 6)));
        assertEquals(FIRST_AXIS_LAST, SampleLayout.moveFor(Shape.of(3, 8, 6), Shape.of(8, 6, 3)), "NCHW data for a Keras channels_last model");
        assertNull(SampleLayout.moveFor(Shape.of(32, 32, 3), Shape.of(3, 32, 33)), "another size");
        assertNull(SampleLayout.moveFor(Shape.of(784), Shape.of(1, 28, 28)), "flat data for an image model: its order is unknown");
        assertNull(SampleLayout.moveFor(Shape.of(4, 6, 2), Shape.of(6, 4, 2)), "not a channel move");
        assertNull(SampleLayout.moveFor(Shape.of(2, 3, 2, 3), Shape.of(3, 2, 3, 2)), "last-first and first-last both give it: ambiguous");
        assertTrue(SampleLayout.mismatch(Shape.of(2, 3, 2, 3), Shape.of(3, 2, 3, 2)).contains("cannot tell which"));
        String m = SampleLayout.mismatch(Shape.of(4, 6, 2), Shape.of(6, 4, 2));
        assertTrue(m.contains("[4, 6, 2]") && m.contains("[6, 4, 2]") && m.contains("scrambled"), m);
        m = SampleLayout.mismatch(Shape.of(20, 20), Shape.of(1, 28, 28));
        assertTrue(m.contains("[1, 28, 28] (784 values)") && m.contains("[20, 20] (400 values)"), m);
    }

    @Test void convolutionalModelsAreBuiltChannelsFirst() {
        assertEquals(Shape.of(1, 28, 28), SampleLayout.imageShape(Shape.of(28, 28)));
        assertEquals(Shape.of(3, 32, 32), SampleLayout.imageShape(Shape.of(32, 32, 3)));
        assertEquals(Shape.of(3, 32, 32), SampleLayout.imageShape(Shape.of(3, 32, 32)));
        assertEquals(Shape.of(1, 28, 28), SampleLayout.imageShape(Shape.of(1, 28, 28)));
        assertEquals(Shape.of(4, 4, 3), SampleLayout.imageShape(Shape.of(4, 4, 3)), "too small to tell: as it is");
        assertEquals(Shape.of(20), SampleLayout.imageShape(Shape.of(20)));
    }

    @Test void channelsLastSamplesMoveInPlaceToTheModelsLayoutAndBack() {
        // 2 samples of [H=2, W=3, C=2]: value = 100 * sample + 10 * c + (h * 3 + w), stored HWC
        int n = 2, h = 2, w = 3, c = 2;
        float[] hwc = new float[n * h * w * c];
        for (int s = 0; s < n; s++)
            for (int p = 0; p < h * w; p++)
                for (int ch = 0; ch < c; ch++) hwc[s * 12 + p * c + ch] = 100 * s + 10 * ch + p;
        float[] original = hwc.clone();
        Dataset d = new Dataset("hwc", Shape.of(h, w, c), hwc, new int[]{0, 1}, 2);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Dataset chw = SampleLayout.arrange(d, Shape.of(c, h, w), new PrintStream(log, true));
        assertSame(hwc, chw.features(), "moved in place, no second copy");
        assertEquals(Shape.of(c, h, w), chw.sampleShape());
        for (int s = 0; s < n; s++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < h * w; p++) assertEquals(100 * s + 10 * ch + p, chw.features()[s * 12 + ch * 6 + p], "s" + s + " c" + ch + " p" + p);
        assertTrue(log.toString().contains("samples [2, 3, 2] moved to the model's input layout [2, 2, 3]"), log.toString());
        // and back, for a channels_last model
        Dataset back = SampleLayout.arrange(chw, Shape.of(h, w, c), new PrintStream(new ByteArrayOutputStream()));
        assertArrayEquals(original, back.features());
        // already in order: the same object, nothing said
        ByteArrayOutputStream quiet = new ByteArrayOutputStream();
        assertSame(back, SampleLayout.arrange(back, Shape.of(1, h, w, c), new PrintStream(quiet)));
        assertEquals("", quiet.toString());
        DataException e = assertThrows(DataException.class, () -> SampleLayout.arrange(back, Shape.of(6, 2), new PrintStream(quiet)));
        assertTrue(e.getMessage().startsWith("hwc: the data's samples have shape [2, 3, 2], the model takes [6, 2]"), e.getMessage());
    }
}
