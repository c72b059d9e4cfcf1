package dev.shears.pruning.recipe;

import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The recipe's {@code augmentation:} block: off by default, round trip through RecipeWriter, kept
 * by the other with* methods, refusals naming field and value, the short form --augment takes,
 * the image check against the model's and the data's sample shapes, describe.
 */
class AugmentationRecipeTest {
    private static Recipe parse(String block) { return WithBlock.parse(block, "aug"); }

    private static String refused(String block) { return WithBlock.refused(block, "aug"); }

    @Test
    void offByDefaultAndEachPartOnItsOwn() {
        assertNull(parse("").augmentation());
        assertEquals(new Augmentation(true, 0), parse("augmentation: {flip: true}\n").augmentation());
        assertEquals(new Augmentation(false, 2), parse("augmentation: {crop: 2}\n").augmentation());
        assertEquals(new Augmentation(true, 4), parse("augmentation:\n  flip: true\n  crop: 4\n").augmentation());
        assertEquals(Augmentation.DEFAULTS, parse("augmentation: {flip: true, crop: 4}\n").augmentation());
    }

    @Test
    void theBlockRoundTripsAndTheOtherWithersKeepIt() {
        for (String block : new String[] {"augmentation: {flip: true, crop: 4}\n", "augmentation: {crop: 1}\n", "augmentation: {flip: true}\n"}) {
            Recipe r = parse(block);
            String yaml = RecipeWriter.toYaml(r);
            assertTrue(yaml.contains("augmentation:"), yaml);
            Recipe back = RecipeParser.parse(yaml, "written", "x");
            assertEquals(r, back, yaml);
            assertEquals(RecipeWriter.toYaml(back), yaml);
        }
        Recipe r = parse("augmentation: {flip: true, crop: 3}\ndistillation: {}\n");
        Recipe changed = r.withEpochs(20).withFinalSparsity(0.8).withStartLearningRate(0.1).withDistillation(null)
                .withStructure(new NmStructure(2, 4));
        assertEquals(r.augmentation(), changed.augmentation());
        assertNull(r.withAugmentation(null).augmentation());
        assertFalse(RecipeWriter.toYaml(r.withAugmentation(null)).contains("augmentation"));
        // a different augmentation is a different recipe text (what --resume compares)
        assertNotEquals(RecipeWriter.toYaml(r), RecipeWriter.toYaml(r.withAugmentation(new Augmentation(true, 2))));
    }

    @Test
    void badValuesAreRefusedNamingTheFieldAndValue() {
        String e = refused("augmentation: {crop: -1}\n");
        assertTrue(e.startsWith("aug.yaml: augmentation.crop: -1 is negative"), e);
        e = refused("augmentation: {crop: 2.5}\n");
        assertTrue(e.startsWith("aug.yaml: augmentation.crop: 2.5 is not a whole number of pixels"), e);
        e = refused("augmentation: {flip: 'yes'}\n");
        assertTrue(e.startsWith("aug.yaml: augmentation.flip: 'yes' is not true or false"), e);
        e = refused("augmentation: {flip: true, rotate: 10}\n");
        assertTrue(e.startsWith("aug.yaml: augmentation.rotate: unknown field; allowed here: [flip, crop]"), e);
        e = refused("augmentation: {}\n");
        assertTrue(e.startsWith("aug.yaml: augmentation: turns nothing on (flip: false, crop: 0)"), e);
        e = refused("augmentation: {flip: false, crop: 0}\n");
        assertTrue(e.contains("turns nothing on"), e);
        e = refused("augmentation: flip\n");
        assertTrue(e.startsWith("aug.yaml: augmentation: expected a mapping"), e);
    }

    @Test
    void theShortFormOfTheFlag() {
        assertEquals(new Augmentation(true, 4), Augmentation.parse("flip,crop:4"));
        assertEquals(new Augmentation(true, 2), Augmentation.parse(" crop:2 , flip "));
        assertEquals(new Augmentation(true, 0), Augmentation.parse("flip"));
        assertEquals(new Augmentation(false, 1), Augmentation.parse("crop:1"));
        for (Augmentation a : new Augmentation[] {new Augmentation(true, 4), new Augmentation(false, 3), new Augmentation(true, 0)})
            assertEquals(a, Augmentation.parse(a.spec()));
        String e = assertThrows(RecipeException.class, () -> Augmentation.parse("flip,rotate")).getMessage();
        assertEquals("augmentation 'flip,rotate': 'rotate' is not flip or crop:P; give e.g. flip,crop:4", e);
        e = assertThrows(RecipeException.class, () -> Augmentation.parse("crop:x")).getMessage();
        assertTrue(e.contains("crop needs its padding as a whole number of pixels, crop:P (crop:4), got 'crop:x'"), e);
        e = assertThrows(RecipeException.class, () -> Augmentation.parse("flip,flip")).getMessage();
        assertTrue(e.contains("flip is given twice"), e);
        // in the short form's words, not the recipe block's (flip: false, crop: 0)
        e = assertThrows(RecipeException.class, () -> Augmentation.parse("crop:0")).getMessage();
        assertEquals("augmentation 'crop:0': crop:0 turns nothing on; give crop:P with P >= 1, flip, or both (flip,crop:4)", e);
        e = assertThrows(RecipeException.class, () -> Augmentation.parse("crop:-2")).getMessage();
        assertTrue(e.startsWith("augmentation 'crop:-2': crop:-2 is negative; give crop:P with P >= 1"), e);
        assertFalse(e.contains("or 0 for no crop"), e);
        assertEquals(new Augmentation(true, 0), Augmentation.parse("flip,crop:0"));
    }

    @Test
    void onlyImagesAndCropsOfAtMostHalfTheSmallerSide() {
        Augmentation a = new Augmentation(true, 4);
        assertEquals(new ImageGeometry(1, 28, 28, false), a.requireFits(Shape.of(1, 28, 28), Shape.of(1, 28, 28), "fmnist"));
        // an MLP taking a flat vector, on [28, 28] images: the data's shape says where the pixels are
        assertEquals(new ImageGeometry(1, 28, 28, false), a.requireFits(Shape.of(784), Shape.of(28, 28), "fmnist"));
        // a Keras channels_last model
        assertEquals(new ImageGeometry(3, 32, 32, true), a.requireFits(Shape.of(32, 32, 3), Shape.of(32, 32, 3), "cifar"));
        String e = assertThrows(RecipeException.class, () -> a.requireFits(Shape.of(64), Shape.of(64), "blobs")).getMessage();
        assertEquals("augmentation (flip,crop:4) works on image samples [C, H, W] or [H, W], but blobs has samples of shape [64], not an image;"
                + " train without augmentation (leave out --augment and the recipe's augmentation block)", e);
        e = assertThrows(RecipeException.class, () -> a.requireFits(Shape.of(784), Shape.of(784), "flat.npz (train)")).getMessage();
        assertTrue(e.contains("flat.npz (train) has samples of shape [784], not an image"), e);
        e = assertThrows(RecipeException.class, () -> new Augmentation(false, 15).requireFits(Shape.of(1, 28, 28), Shape.of(1, 28, 28), "fmnist")).getMessage();
        assertEquals("augmentation.crop: 15 is more than half the 28 x 28 images of fmnist; give 1..14 (the zero padding on each side before the random crop)", e);
        assertNotNull(new Augmentation(false, 14).requireFits(Shape.of(1, 28, 28), Shape.of(1, 28, 28), "fmnist"));
        e = assertThrows(RecipeException.class, () -> new Augmentation(false, 5).requireFits(Shape.of(3, 9, 32), Shape.of(3, 9, 32), "wide")).getMessage();
        assertTrue(e.contains("half the 9 x 32 images of wide; give 1..4"), e);
        // a side of one pixel leaves no crop at all: say so rather than "give 1..0"
        e = assertThrows(RecipeException.class, () -> new Augmentation(false, 1).requireFits(Shape.of(1, 1, 28), Shape.of(1, 1, 28), "rows")).getMessage();
        assertEquals("augmentation.crop: 1: the 1 x 28 images of rows are too small to crop (a side of 1 pixel); use flip alone or no augmentation", e);
    }

    @Test
    void describeSaysWhatIsOn() {
        assertEquals("augmentation: random horizontal flip (p = 0.5), random crop after 4-pixel zero padding (training batches only)",
                Augmentation.DEFAULTS.describe());
        assertEquals("augmentation: random crop after 2-pixel zero padding (training batches only)", new Augmentation(false, 2).describe());
        String d = parse("augmentation: {flip: true}\n").describe();
        assertTrue(d.endsWith("\n  augmentation: random horizontal flip (p = 0.5) (training batches only)"), d);
        assertFalse(parse("").describe().contains("augmentation"));
    }
}
