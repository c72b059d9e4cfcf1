package dev.shears.nativebind;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds a CUDA library on disk. Search order:
 * <ol>
 *   <li>the folders in the system property {@value #PROPERTY}, else the environment variable
 *       {@value #ENV} (colon-separated);</li>
 *   <li>the system loader (LD_LIBRARY_PATH, ld.so.cache), by file name;</li>
 *   <li>the usual folders: {@code /usr/local/cuda*}{@code /lib64}, the distribution's library
 *       folders, and the Python-wheel folders {@code site-packages/nvidia/*}{@code /lib} under
 *       common Python prefixes (pip, venv, conda), where CUDA 13 ships cuBLAS and cuSPARSE.</li>
 * </ol>
 * Within steps 1 and 3 the preferred file name wins over folder order, CUDA's {@code stubs}
 * folders are skipped, and a library's CUDA dependencies in its folder load first ({@link #load}).
 * A failure lists every place tried and why each failed.
 */
public final class LibraryDiscovery {
    public static final String PROPERTY = "shears.cuda.libPath";
    public static final String ENV = "SHEARS_CUDA_LIB_PATH";

    private final List<Path> overrideFolders;
    private final boolean useSystemLoader;
    private final List<Path> standardFolders;

    /**
     * @param overrideFolders folders searched first (from the property or environment)
     * @param useSystemLoader whether to ask the dynamic loader by bare file name
     * @param standardFolders folders searched last
     */
    public LibraryDiscovery(List<Path> overrideFolders, boolean useSystemLoader, List<Path> standardFolders) {
        this.overrideFolders = List.copyOf(overrideFolders);
        this.useSystemLoader = useSystemLoader;
        this.standardFolders = List.copyOf(standardFolders);
    }

    /** The discovery every binding uses: property/environment, loader, usual folders. */
    public static LibraryDiscovery standard() {
        return new LibraryDiscovery(overrideFolders(System.getProperty(PROPERTY), System.getenv(ENV)), true,
                standardFolders());
    }

    /** The override folders: the property wins over the environment; blanks are ignored. */
    static List<Path> overrideFolders(String property, String env) {
        String spec = property != null && !property.isBlank() ? property : env;
        List<Path> out = new ArrayList<>();
        if (spec == null) return out;
        for (String part : spec.split(":")) {
            if (!part.isBlank()) out.add(Path.of(part.trim()));
        }
        return out;
    }

    /** The usual CUDA, distribution and Python-wheel library folders that exist on this machine. */
    public static List<Path> standardFolders() {
        Set<Path> out = new LinkedHashSet<>();
        // /usr/local/cuda first (the default symlink), then versioned installs, newest first.
        out.add(Path.of("/usr/local/cuda/lib64"));
        for (Path p : children(Path.of("/usr/local"), "cuda-")) out.add(p.resolve("lib64"));
        out.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        out.add(Path.of("/usr/local/nvidia/lib64"));
        out.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        out.add(Path.of("/usr/lib64"));
        out.add(Path.of("/usr/lib/wsl/lib"));
        for (Path sitePackages : sitePackagesFolders()) {
            // CUDA 12 wheels: nvidia/<lib>/lib; CUDA 13 wheels: nvidia/cu13/lib
            for (Path pkg : children(sitePackages.resolve("nvidia"), "")) out.add(pkg.resolve("lib"));
        }
        return out.stream().filter(Files::isDirectory).toList();
    }

    private static List<Path> sitePackagesFolders() {
        List<Path> prefixes = new ArrayList<>();
        for (String env : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = System.getenv(env);
            if (v != null && !v.isBlank()) prefixes.add(Path.of(v));
        }
        String home = System.getProperty("user.home");
        if (home != null) prefixes.add(Path.of(home, ".local"));
        prefixes.add(Path.of("/usr/local"));
        prefixes.add(Path.of("/usr"));
        prefixes.add(Path.of("/opt/conda"));
        List<Path> out = new ArrayList<>();
        for (Path prefix : prefixes) {
            for (String lib : List.of("lib", "lib64")) {
                for (Path python : children(prefix.resolve(lib), "python3")) {
                    out.add(python.resolve("site-packages"));
                    out.add(python.resolve("dist-packages"));
                }
            }
        }
        out.add(Path.of("/usr/lib/python3/dist-packages"));
        return out;
    }

    /** Sub-folders of {@code dir} whose names start with {@code prefix}, sorted descending. */
    private static List<Path> children(Path dir, String prefix) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p))
                    .sorted(Comparator.comparing(Path::toString).reversed()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * Loads the first of {@code library}'s file names found, searching as the class comment says.
     * Within the override folders, and within the usual ones, a preferred name in any folder wins
     * over a less preferred name in an earlier folder (so {@code libcublas.so.13} in a Python wheel
     * wins over an unversioned {@code libcublas.so} that sorts first), and a folder named
     * {@value #STUBS} is skipped: the CUDA toolkit's {@code lib64/stubs} holds link-time stand-ins
     * that load but fail every call. Before a library found in a folder, the first of its
     * {@link CudaLibrary#dependencies()} present in the same folder is loaded.
     *
     * @throws NativeLibraryException listing every place tried
     */
    public LoadedLibrary load(CudaLibrary library) {
        List<String> tried = new ArrayList<>();
        String[] names = library.fileNames();
        LoadedLibrary lib = searchFolders(library, overrideFolders, tried, "from " + PROPERTY + "/" + ENV);
        if (lib != null) return lib;
        if (useSystemLoader) {
            for (String name : names) {
                try {
                    SymbolLookup lookup = SymbolLookup.libraryLookup(name, Arena.global());
                    return new LoadedLibrary(library, name + " (system loader)", lookup);
                } catch (IllegalArgumentException e) {
                    tried.add(name + " via the system loader (LD_LIBRARY_PATH, ld.so.cache): " + reason(e));
                }
            }
        }
        lib = searchFolders(library, standardFolders, tried, null);
        if (lib != null) return lib;
        if (!useSystemLoader && overrideFolders.isEmpty() && standardFolders.isEmpty()) {
            tried.add("(no folders to search)");
        }
        throw new NativeLibraryException(library.displayName() + " library (" + String.join(" or ", names)
                + ") not found. Install it, or set -D" + PROPERTY + " or " + ENV
                + " to the folder holding it (colon-separated for several)", tried);
    }

    /** The name of the CUDA toolkit's folder of link-time stub libraries, which {@link #load} skips. */
    public static final String STUBS = "stubs";

    /** Each of {@code library}'s names (preferred first) in each folder (in order); null when none loads. */
    private static LoadedLibrary searchFolders(CudaLibrary library, List<Path> folders, List<String> tried, String note) {
        List<Path> usable = new ArrayList<>();
        for (Path folder : folders) {
            Path last = folder.getFileName();
            if (last != null && last.toString().equals(STUBS)) {
                tried.add(folder + (note == null ? "" : " (" + note + ")") + ": skipped, a CUDA toolkit folder of link-time "
                        + "stubs, which load but fail at run time");
            } else {
                usable.add(folder);
            }
        }
        for (String name : library.fileNames()) {
            for (Path folder : usable) {
                LoadedLibrary lib = tryPath(library, folder.resolve(name), tried, note);
                if (lib != null) return lib;
            }
        }
        return null;
    }

    private static LoadedLibrary tryPath(CudaLibrary library, Path file, List<String> tried, String note) {
        String where = file + (note == null ? "" : " (" + note + ")");
        if (!Files.exists(file)) {
            tried.add(where + ": not found");
            return null;
        }
        String dependency = loadDependency(library, file.getParent(), tried);
        try {
            String location = file + (dependency == null ? "" : " (after " + dependency + " from the same folder)");
            return new LoadedLibrary(library, location, SymbolLookup.libraryLookup(file, Arena.global()));
        } catch (IllegalArgumentException e) {
            tried.add(where + ": exists but did not load: " + reason(e));
            return null;
        }
    }

    /**
     * Loads the first of {@code library}'s dependencies present in {@code folder} (see
     * {@link CudaLibrary#dependencies()}): once loaded, the dynamic linker satisfies the library's
     * DT_NEEDED entry of that name with it, whatever the library's RUNPATH. Returns its file name,
     * or null when none is there or it did not load (then the library's own load says what is missing).
     */
    private static String loadDependency(CudaLibrary library, Path folder, List<String> tried) {
        if (folder == null) return null;
        for (String dep : library.dependencies()) {
            Path file = folder.resolve(dep);
            if (!Files.exists(file)) continue;
            try {
                SymbolLookup.libraryLookup(file, Arena.global());
                return dep;
            } catch (IllegalArgumentException e) {
                tried.add(file + " (a dependency of " + library.displayName() + "): exists but did not load: " + reason(e));
                return null;
            }
        }
        return null;
    }

    private static String reason(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
