package dev.shears.cli;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * How an image folder's class folders meet the names of a model trained on the built-in
 * Fashion-MNIST ("T-shirt/top", ..., which no folder can be named): by name, loosely, or by output
 * index (folders 0..9, as the data set is often exported), and how the built-in data meets a model
 * trained on such folders.
 */
class ClassNamesMatchTest {
    private static final List<String> FASHION = DataSources.FASHION_MNIST_CLASSES;

    /** A model with Fashion-MNIST's 10 outputs, named {@code names}. */
    private static Model model(List<String> names) {
        return Architectures.create("lenet-300-100", Shape.of(1, 28, 28), 10).bind(CpuBackend.create(), 1).setClassNames(names);
    }

    /** One sample per class folder {@code folders} (sorted, as an image folder lists them), sample i of folder i. */
    private static Dataset folders(String... folders) {
        int[] labels = new int[folders.length];
        for (int i = 0; i < labels.length; i++) labels[i] = i;
        return new Dataset("imgs (test)", Shape.of(1, 28, 28), new float[784 * folders.length], labels, folders.length, true, List.of(folders));
    }

    private static int[] labels(Model m, Dataset d, StringBuilder log) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Dataset r = ClassNames.reconcile(m, "m.shears", d, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        log.append(bytes.toString(StandardCharsets.UTF_8));
        return r.labels();
    }

    @Test void folderNamesMatchLooselyWhereAFolderCannotHoldTheName() {
        assertEquals(0, ClassNames.match("T-shirt_top", FASHION));
        assertEquals(0, ClassNames.match("t-shirt top", FASHION));
        assertEquals(0, ClassNames.match("T-shirt", FASHION), "one of the '/' alternatives");
        assertEquals(9, ClassNames.match("ankle_boot", FASHION));
        assertEquals(6, ClassNames.match("Shirt", FASHION), "exact, not the T-shirt");
        assertEquals(6, ClassNames.match("6", FASHION), "an output index");
        assertEquals(-1, ClassNames.match("10", FASHION), "past the outputs");
        assertEquals(-1, ClassNames.match("06", FASHION), "not how an index is written");
        assertEquals(-1, ClassNames.match("Hat", FASHION));
        // a model whose names are numbers: a number is a name there, never an index
        assertEquals(-1, ClassNames.match("0", List.of("1", "2", "3")));
        assertEquals(1, ClassNames.match("2", List.of("1", "2", "3")));
        // a loose name two classes fit is neither
        assertEquals(-1, ClassNames.match("ab", List.of("a-b", "a_b")));
    }

    /** A model with more outputs than names (its training set had fewer classes): an index past its names is no class. */
    @Test void anIndexPastTheNamedOutputsIsRefused() {
        Model m = model(List.of("Bag", "Sandal", "Trouser"));
        assertArrayEquals(new int[] {0, 2}, labels(m, folders("0", "Trouser"), new StringBuilder()));
        UserError past = assertThrows(UserError.class, () -> labels(m, folders("5"), new StringBuilder()));
        assertTrue(past.getMessage().contains("was not trained on: \"5\""), past.getMessage());
    }

    @Test void indexFoldersAndNamedFoldersMeetAFashionModel() {
        Model m = model(FASHION);
        StringBuilder log = new StringBuilder();
        // folders "0".."9" sort as 0..9 but a subset does not start at 0: each folder is its index, not its position
        assertArrayEquals(new int[] {2, 6, 9}, labels(m, folders("2", "6", "9"), log));
        assertTrue(log.toString().contains("its 3 class folders are 3 of the model's 10 classes, matched by name or index;"
                + " labels follow the model's class names (2 -> 2 \"Pullover\", 6 -> 6 \"Shirt\", 9 -> 9 \"Ankle boot\")"), log.toString());
        log.setLength(0);
        // all ten by index: the same order, said without "in another order"
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, labels(m, folders("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), log));
        assertTrue(log.toString().contains("its 10 class folders are the model's 10 classes, matched by name or index"), log.toString());
        // named folders, sorted as an image folder lists them
        assertArrayEquals(new int[] {9, 8, 4, 6, 0}, labels(m, folders("Ankle boot", "Bag", "Coat", "Shirt", "T-shirt_top"), new StringBuilder()));
        // a folder no class is, and two folders for one class, are refused naming them
        UserError unknown = assertThrows(UserError.class, () -> labels(m, folders("Bag", "Hat"), new StringBuilder()));
        assertTrue(unknown.getMessage().contains("has class folders the model --model m.shears was not trained on: \"Hat\""), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("\"T-shirt_top\" for \"T-shirt/top\""), unknown.getMessage());
        UserError twice = assertThrows(UserError.class, () -> labels(m, folders("T-shirt", "T-shirt_top"), new StringBuilder()));
        assertTrue(twice.getMessage().contains("two class folders, \"T-shirt\" and \"T-shirt_top\", that both name the model's class 0 \"T-shirt/top\""),
                twice.getMessage());
    }

    /** The built-in data (its classes named in label order) against models trained on image folders of the same items. */
    @Test void theBuiltInDataMeetsModelsTrainedOnFolders() {
        Dataset test = DataSources.bundledFashionMnist().test().head(50);
        // trained on folders named by the items, sorted ("Ankle boot", "Bag", ..., "T-shirt", "Trouser"): matched by name
        List<String> sorted = List.of("Ankle boot", "Bag", "Coat", "Dress", "Pullover", "Sandal", "Shirt", "Sneaker", "T-shirt", "Trouser");
        int[] byName = labels(model(sorted), test, new StringBuilder());
        for (int i = 0; i < test.count(); i++) {
            int label = test.labels()[i];
            assertEquals(sorted.indexOf(label == 0 ? "T-shirt" : FASHION.get(label)), byName[i], "sample " + i + ": " + FASHION.get(label));
        }
        // trained on folders 0..9: label i is output i
        StringBuilder log = new StringBuilder();
        assertArrayEquals(test.labels(), labels(model(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")), test, log));
        assertTrue(log.toString().contains("the model's classes are named by index"), log.toString());
        // a model of other classes: refused naming the data's classes (not "class folders": the built-in set has none)
        UserError other = assertThrows(UserError.class, () -> labels(model(List.of("Bag", "Sandal", "Trouser")), test, new StringBuilder()));
        assertTrue(other.getMessage().contains("has classes the model --model m.shears was not trained on: \"T-shirt/top\", \"Pullover\""), other.getMessage());
        // the same names: as they are
        assertArrayEquals(test.labels(), labels(model(FASHION), test, new StringBuilder()));
    }
}
