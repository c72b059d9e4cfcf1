package dev.shears.core.backend;

import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cuda.CudaBackend;

/**
 * Picks a backend by name, as {@code --backend auto|cpu|cuda} does, and says which and why:
 * {@code auto} takes CUDA when a device, the driver, cuBLAS and the kernel image all load, else
 * the CPU, never silently; {@code cuda} fails with the cause instead of falling back.
 */
public final class Backends {
    private Backends() {}

    /**
     * The backend chosen and a one-line reason for the log (the CLI prints it on stderr).
     *
     * @param backend the open backend; the caller closes it
     */
    public record Selection(Backend backend, String reason) {}

    public static Selection create(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(java.util.Locale.ROOT);
        return switch (s) {
            case "cpu" -> {
                CpuBackend cpu = CpuBackend.create();
                yield new Selection(cpu, "backend " + cpu.name() + ": requested");
            }
            case "cuda" -> {
                String cause = CudaBackend.unavailabilityCause();
                if (cause != null) {
                    throw new IllegalStateException("--backend cuda: the CUDA backend is unavailable: " + cause);
                }
                CudaBackend cuda = CudaBackend.create();
                yield new Selection(cuda, "backend " + cuda.name() + ": requested");
            }
            case "auto" -> auto();
            default -> throw new IllegalArgumentException("backend '" + spec + "': expected auto, cpu or cuda");
        };
    }

    private static Selection auto() {
        String cause = CudaBackend.unavailabilityCause();
        if (cause == null) {
            try {
                CudaBackend cuda = CudaBackend.create();
                return new Selection(cuda, "backend " + cuda.name() + ": auto found a CUDA device and its libraries");
            } catch (RuntimeException e) {
                cause = "the CUDA backend failed to start: " + e.getMessage();
            }
        }
        CpuBackend cpu = CpuBackend.create();
        return new Selection(cpu, "backend " + cpu.name() + ": auto fell back to the CPU because CUDA is unavailable: "
                + firstLine(cause) + " (--backend cuda shows the full cause)");
    }

    /** The first sentence of the cause (the discovery trace that follows belongs to --backend cuda's error). */
    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        int stop = line.indexOf(". ");
        return stop < 0 ? line : line.substring(0, stop + 1);
    }
}
