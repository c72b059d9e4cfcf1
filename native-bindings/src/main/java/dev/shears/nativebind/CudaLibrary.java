package dev.shears.nativebind;

/** The native libraries Shears binds; used to name the source of a {@link CudaException}. */
public enum CudaLibrary {
    DRIVER("CUDA driver", "libcuda.so.1", "libcuda.so"),
    CUBLAS("cuBLAS", "libcublas.so.13", "libcublas.so.12", "libcublas.so"),
    CUSPARSE("cuSPARSE", "libcusparse.so.12", "libcusparse.so"),
    CUSPARSELT("cuSPARSELt", "libcusparseLt.so.0", "libcusparseLt.so");

    private final String displayName;
    private final String[] fileNames;

    CudaLibrary(String displayName, String... fileNames) {
        this.displayName = displayName;
        this.fileNames = fileNames;
    }

    public String displayName() { return displayName; }

    /** File names to look for, preferred first (e.g. cuBLAS 13 before 12). */
    public String[] fileNames() { return fileNames.clone(); }
}
