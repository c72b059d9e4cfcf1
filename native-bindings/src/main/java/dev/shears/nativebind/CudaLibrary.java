package dev.shears.nativebind;

/** The native libraries Shears binds; used to name the source of a {@link CudaException}. */
public enum CudaLibrary {
    DRIVER("CUDA driver", new String[] {}, "libcuda.so.1", "libcuda.so"),
    // cuBLAS needs cuBLASLt (libcublas.so.13's DT_NEEDED libcublasLt.so.13, in the same folder)
    CUBLAS("cuBLAS", new String[] {"libcublasLt.so.13", "libcublasLt.so.12"}, "libcublas.so.13", "libcublas.so.12", "libcublas.so"),
    // cuSPARSE needs nvJitLink (CUDA 13's libcusparse.so.12 needs libnvJitLink.so.13; CUDA 12's, .so.12)
    CUSPARSE("cuSPARSE", new String[] {"libnvJitLink.so.13", "libnvJitLink.so.12"}, "libcusparse.so.12", "libcusparse.so"),
    CUSPARSELT("cuSPARSELt", new String[] {}, "libcusparseLt.so.0", "libcusparseLt.so");

    private final String displayName;
    private final String[] dependencies;
    private final String[] fileNames;

    CudaLibrary(String displayName, String[] dependencies, String... fileNames) {
        this.displayName = displayName;
        this.dependencies = dependencies;
        this.fileNames = fileNames;
    }

    public String displayName() { return displayName; }

    /** File names to look for, preferred first (e.g. cuBLAS 13 before 12). */
    public String[] fileNames() { return fileNames.clone(); }

    /**
     * CUDA libraries this one links against (its DT_NEEDED entries that are themselves CUDA
     * libraries), newest first. {@link LibraryDiscovery} loads the first one present in the folder
     * it found this library in, before this library: loaded by its full path, the library finds them
     * only through its RUNPATH or LD_LIBRARY_PATH, which a Python-wheel install need not provide
     * (NVIDIA's cuda-pathfinder preloads the same pairs). All of CUDA 13's wheels put them in one
     * folder, {@code site-packages/nvidia/cu13/lib}.
     */
    public String[] dependencies() { return dependencies.clone(); }
}
