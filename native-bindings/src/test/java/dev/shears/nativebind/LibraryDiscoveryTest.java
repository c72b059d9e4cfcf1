package dev.shears.nativebind;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LibraryDiscoveryTest {

    @Test
    void failureListsEveryFolderAndFileNameTried(@TempDir Path tmp) throws Exception {
        Path override = Files.createDirectories(tmp.resolve("override"));
        Path standard = Files.createDirectories(tmp.resolve("standard"));
        LibraryDiscovery d = new LibraryDiscovery(List.of(override), false, List.of(standard));

        NativeLibraryException e = assertThrows(NativeLibraryException.class, () -> d.load(CudaLibrary.CUBLAS));

        List<String> tried = e.tried();
        // cuBLAS has three candidate names, two folders: six places, override folder first, .so.13 before .so.12
        assertEquals(6, tried.size(), tried.toString());
        assertTrue(tried.get(0).startsWith(override.resolve("libcublas.so.13").toString()), tried.get(0));
        assertTrue(tried.get(1).startsWith(override.resolve("libcublas.so.12").toString()), tried.get(1));
        assertTrue(tried.get(3).startsWith(standard.resolve("libcublas.so.13").toString()), tried.get(3));
        for (String t : tried) assertTrue(t.endsWith("not found"), t);
        assertTrue(e.getMessage().contains(LibraryDiscovery.PROPERTY), e.getMessage());
        assertTrue(e.getMessage().contains(LibraryDiscovery.ENV), e.getMessage());
        for (String t : tried) assertTrue(e.getMessage().contains(t), "message lists " + t);
    }

    @Test
    void aFileThatIsNotALibrarySaysWhyItDidNotLoad(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("libcuda.so.1"), "not an ELF file");
        LibraryDiscovery d = new LibraryDiscovery(List.of(tmp), false, List.of());

        NativeLibraryException e = assertThrows(NativeLibraryException.class, () -> d.load(CudaLibrary.DRIVER));

        assertTrue(e.tried().getFirst().contains("exists but did not load"), e.tried().toString());
        assertTrue(e.tried().get(1).contains("libcuda.so (from") && e.tried().get(1).endsWith("not found"), e.tried().toString());
    }

    @Test
    void systemLoaderFailureIsListedToo(@TempDir Path tmp) {
        // No system has a library by this name, so the loader must fail and be listed.
        LibraryDiscovery d = new LibraryDiscovery(List.of(), true, List.of(tmp));
        NativeLibraryException e = assertThrows(NativeLibraryException.class, () -> d.load(CudaLibrary.CUSPARSELT));
        assertTrue(e.tried().stream().anyMatch(t -> t.startsWith("libcusparseLt.so.0 via the system loader")),
                e.tried().toString());
        assertTrue(e.tried().stream().anyMatch(t -> t.startsWith(tmp.resolve("libcusparseLt.so.0").toString())),
                e.tried().toString());
    }

    @Test
    void propertyWinsOverEnvironmentAndBlanksAreIgnored() {
        assertEquals(List.of(Path.of("/a"), Path.of("/b")), LibraryDiscovery.overrideFolders("/a::/b: ", "/env"));
        assertEquals(List.of(Path.of("/env")), LibraryDiscovery.overrideFolders(null, "/env"));
        assertEquals(List.of(Path.of("/env")), LibraryDiscovery.overrideFolders("  ", "/env"));
        assertEquals(List.of(), LibraryDiscovery.overrideFolders(null, null));
    }

    @Test
    void standardFoldersOnlyListExistingDirectories() {
        for (Path p : LibraryDiscovery.standardFolders()) assertTrue(Files.isDirectory(p), p.toString());
    }
}
