package dev.shears.nativebind;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
    void aPreferredNameInALaterFolderWinsAndStubFoldersAreSkipped(@TempDir Path tmp) throws Exception {
        // the CUDA toolkit's lib64/stubs (link-time stand-ins) and a folder with only an unversioned
        // name sort before the wheel folder holding the real libcublas.so.13 (as env.sh's sorted list does)
        Path stubs = Files.createDirectories(tmp.resolve("a-cuda/lib64/stubs"));
        Path plain = Files.createDirectories(tmp.resolve("b-plain"));
        Path wheel = Files.createDirectories(tmp.resolve("c-wheel/nvidia/cu13/lib"));
        Files.writeString(stubs.resolve("libcublas.so"), "stub");
        Files.writeString(plain.resolve("libcublas.so"), "unversioned");
        Files.writeString(wheel.resolve("libcublas.so.13"), "the real one (not an ELF here)");
        LibraryDiscovery d = new LibraryDiscovery(List.of(stubs, plain, wheel), false, List.of());

        NativeLibraryException e = assertThrows(NativeLibraryException.class, () -> d.load(CudaLibrary.CUBLAS));

        List<String> tried = e.tried();
        assertTrue(tried.getFirst().startsWith(stubs + " ") && tried.getFirst().contains("skipped"), tried.toString());
        assertTrue(tried.stream().noneMatch(t -> t.startsWith(stubs.resolve("libcublas.so").toString())), tried.toString());
        int real = indexOf(tried, wheel.resolve("libcublas.so.13").toString());
        int unversioned = indexOf(tried, plain.resolve("libcublas.so").toString());
        assertTrue(real >= 0 && tried.get(real).contains("exists but did not load"), tried.toString());
        assertTrue(real < unversioned, "libcublas.so.13 in the last folder is tried before libcublas.so in an earlier one: " + tried);
    }

    @Test
    void aDependencyInTheSameFolderLoadsFirst(@TempDir Path tmp) throws Exception {
        // any loadable shared object stands in for cuBLASLt and cuBLAS: the C maths library
        Path libm = Stream.of("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6",
                        "/usr/lib64/libm.so.6", "/lib/aarch64-linux-gnu/libm.so.6").map(Path::of).filter(Files::isRegularFile)
                .findFirst().orElse(null);
        assumeTrue(libm != null, "no libm.so.6 in the usual folders to stand in for a CUDA library");
        Path folder = Files.createDirectories(tmp.resolve("nvidia/cu13/lib"));
        Files.copy(libm, folder.resolve("libcublasLt.so.13"));
        Files.copy(libm, folder.resolve("libcublas.so.13"));
        Files.copy(libm, folder.resolve("libcublasLt.so.12")); // an older one beside it is not the one loaded

        LoadedLibrary lib = new LibraryDiscovery(List.of(folder), false, List.of()).load(CudaLibrary.CUBLAS);

        assertTrue(lib.isLoaded());
        assertEquals(folder.resolve("libcublas.so.13") + " (after libcublasLt.so.13 from the same folder)", lib.location());
        assertTrue(lib.has("cos"), "the stand-in's symbols are reachable");
    }

    @Test
    void aDependencyThatDoesNotLoadIsListed(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("libnvJitLink.so.13"), "not an ELF file");
        Files.writeString(tmp.resolve("libcusparse.so.12"), "not an ELF file either");
        LibraryDiscovery d = new LibraryDiscovery(List.of(tmp), false, List.of());

        NativeLibraryException e = assertThrows(NativeLibraryException.class, () -> d.load(CudaLibrary.CUSPARSE));

        assertTrue(e.tried().getFirst().startsWith(tmp.resolve("libnvJitLink.so.13") + " (a dependency of cuSPARSE): exists but did not load"),
                e.tried().toString());
    }

    private static int indexOf(List<String> tried, String prefix) {
        for (int i = 0; i < tried.size(); i++) if (tried.get(i).startsWith(prefix + " ") || tried.get(i).startsWith(prefix + ":")) return i;
        return -1;
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
