package dev.shears.core.cuda.emulator;

import dev.shears.nativebind.LibraryDiscovery;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The test-only CPU emulator of the CUDA driver and cuBLAS (sources in
 * {@code cuda-kernels/src/test/emulator}): compiles it with g++, together with the real kernel
 * sources of {@code cuda-kernels/src/main/cuda}, into {@code libcuda.so.1},
 * {@code libcublas.so.13}, {@code libcusparse.so.12} and {@code libcusparseLt.so.0} in one folder, which the {@code cuda-emulator} Surefire execution of
 * this module names in {@code -Dshears.cuda.libPath}. Rebuilt only when a source is newer than
 * the libraries (about 5 s on two cores).
 *
 * <p>The kernel registry (kernel_list.inc) is generated here from every
 * {@code extern "C" __global__ void NAME(} in the kernel sources; a {@code __global__} written in
 * any other form fails the build, so no kernel can be missed.
 *
 * <p>Call {@link #require()} before anything touches CUDA in the test JVM: CUDA availability is
 * probed once per JVM, so the libraries must exist by then. Without g++ or without the fatbin
 * (a build without nvcc) the calling test is skipped with the reason; when the libraries exist but
 * the property does not point at them, the test fails, as it would otherwise probe a real driver.
 */
public final class CudaEmulator {
    private CudaEmulator() {}

    /** System property: the folder the libraries are built into (set by the Surefire execution). */
    public static final String DIR_PROPERTY = "shears.emulator.dir";
    /** System property: the cuda-kernels/src folder (set by the Surefire execution). */
    public static final String SOURCES_PROPERTY = "shears.emulator.sources";

    private static final Pattern KERNEL = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(?:__launch_bounds__\\s*\\(\\s*\\d+\\s*\\)\\s+)?(\\w+)\\s*\\(");
    private static final Pattern GLOBAL = Pattern.compile("__global__");

    private static final Object LOCK = new Object();
    private static Path built;
    private static String skipReason;

    /** Builds the emulator once per JVM and returns its folder; skips (with the reason) when it cannot be built here. */
    public static Path require() {
        synchronized (LOCK) {
            if (built == null && skipReason == null) build();
            if (skipReason != null) Assumptions.assumeTrue(false, "CUDA emulator unavailable: " + skipReason);
            String libPath = System.getProperty(LibraryDiscovery.PROPERTY);
            if (libPath == null || !Path.of(libPath).toAbsolutePath().normalize().equals(built)) {
                fail("the CUDA emulator is built in " + built + " but -D" + LibraryDiscovery.PROPERTY + " is " + libPath
                        + ": emulator tests must run in gpu-core's cuda-emulator Surefire execution (mvn test), which sets it");
            }
            return built;
        }
    }

    private static void build() {
        String dir = System.getProperty(DIR_PROPERTY), src = System.getProperty(SOURCES_PROPERTY);
        if (dir == null || src == null) {
            skipReason = "-D" + DIR_PROPERTY + " and -D" + SOURCES_PROPERTY + " are not set (run through gpu-core's "
                    + "cuda-emulator Surefire execution)";
            return;
        }
        Path out = Path.of(dir).toAbsolutePath().normalize();
        Path kernelSources = Path.of(src, "main", "cuda"), emulatorSources = Path.of(src, "test", "emulator");
        if (!Files.isDirectory(kernelSources) || !Files.isDirectory(emulatorSources)) {
            skipReason = "kernel or emulator sources not found under " + src;
            return;
        }
        if (dev.shears.kernels.KernelImage.unavailabilityCause() != null) {
            skipReason = dev.shears.kernels.KernelImage.unavailabilityCause();
            return;
        }
        String gxx = findCompiler();
        if (gxx == null) {
            skipReason = "g++ not found on PATH (the emulator compiles the kernels as C++ with it)";
            return;
        }
        try {
            Files.createDirectories(out);
            List<Path> sources = new ArrayList<>();
            sources.addAll(list(kernelSources));
            sources.addAll(list(emulatorSources));
            Path cuda = out.resolve("libcuda.so.1"), cublas = out.resolve("libcublas.so.13"), cusparse = out.resolve("libcusparse.so.12"),
                    cusparseLt = out.resolve("libcusparseLt.so.0");
            if (!newerThan(sources, cuda) && !newerThan(sources, cublas) && !newerThan(sources, cusparse) && !newerThan(sources, cusparseLt)) {
                built = out;
                return;
            }
            Path inc = out.resolve("kernel_list.inc");
            Files.writeString(inc, kernelList(kernelSources), StandardCharsets.UTF_8);
            Path e = emulatorSources;
            String common = "-std=c++17 -O1 -fPIC -pthread -Wall -Wno-unknown-pragmas -Wno-sign-compare -Wno-unused-function";
            // -ffp-contract=off: the fatbin is built with --fmad=false, so no multiply-add may be fused here either
            run(out, gxx + " " + common + " -ffp-contract=off -include " + e.resolve("cuda_shim.h") + " -I" + kernelSources
                    + " -I" + out + " -I" + e + " -c " + e.resolve("kernels.cpp") + " -o " + out.resolve("kernels.o"));
            run(out, gxx + " " + common + " -c " + e.resolve("scheduler.cpp") + " -o " + out.resolve("scheduler.o"));
            run(out, gxx + " " + common + " -c " + e.resolve("driver.cpp") + " -o " + out.resolve("driver.o"));
            run(out, gxx + " -shared -pthread -Wl,-soname,libcuda.so.1 -Wl,--no-undefined -o " + cuda + " "
                    + out.resolve("kernels.o") + " " + out.resolve("scheduler.o") + " " + out.resolve("driver.o"));
            // linked to the emulated driver (found beside it through $ORIGIN) for its stream queue
            run(out, gxx + " " + common + " -ffp-contract=off -shared -Wl,-soname,libcublas.so.13 -Wl,-rpath,'$ORIGIN' -o "
                    + cublas + " " + e.resolve("cublas.cpp") + " " + cuda);
            run(out, gxx + " " + common + " -ffp-contract=off -shared -Wl,-soname,libcusparse.so.12 -Wl,-rpath,'$ORIGIN' -o "
                    + cusparse + " " + e.resolve("cusparse.cpp") + " " + cuda);
            run(out, gxx + " " + common + " -ffp-contract=off -shared -Wl,-soname,libcusparseLt.so.0 -Wl,-rpath,'$ORIGIN' -o "
                    + cusparseLt + " " + e.resolve("cusparselt.cpp") + " " + cuda);
            built = out;
        } catch (IOException ex) {
            throw new UncheckedIOException("building the CUDA emulator in " + out, ex);
        }
    }

    /** SHEARS_KERNEL(name) for every kernel, in file order; fails on a __global__ it cannot register. */
    static String kernelList(Path kernelSources) throws IOException {
        StringBuilder sb = new StringBuilder("// generated by CudaEmulator from " + kernelSources + "\n");
        TreeSet<String> names = new TreeSet<>();
        for (Path f : list(kernelSources)) {
            if (!f.toString().endsWith(".cu") && !f.toString().endsWith(".cuh")) continue;
            String text = stripComments(Files.readString(f, StandardCharsets.UTF_8));
            Matcher m = KERNEL.matcher(text);
            int registered = 0;
            while (m.find()) {
                if (!names.add(m.group(1))) throw new IllegalStateException("kernel " + m.group(1) + " defined twice (" + f + ")");
                sb.append("SHEARS_KERNEL(").append(m.group(1)).append(")\n");
                registered++;
            }
            long globals = GLOBAL.matcher(text).results().count();
            if (globals != registered) {
                throw new IllegalStateException(f + " has " + globals + " __global__ functions but only " + registered
                        + " in the form `extern \"C\" __global__ void NAME(`: declare every kernel that way, or the "
                        + "launchers cannot find it by name (and the emulator cannot register it)");
            }
        }
        if (names.isEmpty()) throw new IllegalStateException("no kernels found in " + kernelSources);
        return sb.toString();
    }

    private static String stripComments(String s) {
        return s.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static boolean newerThan(List<Path> sources, Path target) throws IOException {
        if (!Files.exists(target)) return true;
        FileTime t = Files.getLastModifiedTime(target);
        for (Path p : sources) if (Files.getLastModifiedTime(p).compareTo(t) > 0) return true;
        return false;
    }

    private static String findCompiler() {
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String d : path.split(":")) {
            Path p = Path.of(d, "g++");
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    private static void run(Path dir, String command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(List.of("/bin/sh", "-c", command)).directory(dir.toFile()).redirectErrorStream(true);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command, ex);
        }
        if (p.exitValue() != 0) throw new IllegalStateException("building the CUDA emulator failed (exit " + p.exitValue() + "): "
                + command + "\n" + output);
    }
}
