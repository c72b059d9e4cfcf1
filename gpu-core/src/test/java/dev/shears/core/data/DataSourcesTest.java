package dev.shears.core.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** What {@code --data} says when it is not a data set (NumPy archives and folders: {@link NumpyDataTest}). */
class DataSourcesTest {

    @Test void aMissingFolderIsCalledMissingAndTheAcceptedValuesAreListed(@TempDir Path dir) {
        String spec = dir.resolve("nope").toString();
        for (DataException e : new DataException[]{assertThrows(DataException.class, () -> DataSources.load(spec)),
                assertThrows(DataException.class, () -> DataSources.loadTest(spec))}) {
            assertTrue(e.getMessage().startsWith("--data " + spec + ": no such folder; give 'fashion-mnist', a .npz archive of x_train, y_train, x_test, y_test, a folder of IDX files"), e.getMessage());
            assertTrue(e.getMessage().contains("one subfolder per class"), e.getMessage());
            assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte[.gz]"), e.getMessage());
        }
    }

    @Test void aFileIsNotAFolder(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("x.npy"), "x");
        DataException e = assertThrows(DataException.class, () -> DataSources.loadTest(file.toString()));
        assertTrue(e.getMessage().startsWith("--data " + file + ": is a file, not a .npz archive or a folder"), e.getMessage());
    }

    @Test void aFolderWithoutTheFilesNamesTheFileItLacks(@TempDir Path dir) {
        DataException e = assertThrows(DataException.class, () -> DataSources.loadTest(dir.toString()));
        assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte"), e.getMessage());
    }
}
