package dev.shears.core.cuda;

import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The skip-or-fail rule of every GPU test (*IT): without CUDA a test is skipped with
 * "CUDA unavailable: <cause>", unless {@code -Dshears.requireGpu=true} (passed to surefire by
 * the parent pom), in which case it fails, so a GPU run can never pass by skipping.
 */
public final class GpuTestSupport {
    private GpuTestSupport() {}

    public static final String REQUIRE_PROPERTY = "shears.requireGpu";

    /** Environment twin of the property, for launchers that cannot pass -D to the test JVM. */
    public static final String REQUIRE_ENV = "SHEARS_REQUIRE_GPU";

    /** Whether this run must have a GPU: -Dshears.requireGpu=true or SHEARS_REQUIRE_GPU=true. */
    public static boolean required() {
        return Boolean.getBoolean(REQUIRE_PROPERTY) || "true".equalsIgnoreCase(System.getenv(REQUIRE_ENV));
    }

    /** Skips (or fails, when required) unless the CUDA backend can run here. */
    public static void assumeCuda() {
        check(CudaBackend.unavailabilityCause(), required());
    }

    /** The rule itself, for its own test: {@code cause} null means available. */
    static void check(String cause, boolean require) {
        if (cause == null) return;
        if (require) fail("CUDA unavailable but -D" + REQUIRE_PROPERTY + "=true: " + cause);
        Assumptions.assumeTrue(false, "CUDA unavailable: " + cause);
    }

    /** A backend whose close fails on leaked tensors; skips or fails first as {@link #assumeCuda()}. */
    public static CudaBackend strictBackend() {
        assumeCuda();
        return CudaBackend.create(0, CudaBackend.LeakPolicy.STRICT);
    }
}
