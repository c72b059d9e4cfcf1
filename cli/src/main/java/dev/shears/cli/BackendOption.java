package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import picocli.CommandLine.Option;

/** {@code --backend auto|cpu|cuda}: auto says on stderr which it picked and why. */
final class BackendOption {
    @Option(names = "--backend", defaultValue = "auto", description = "auto (CUDA when a GPU and its libraries load, else CPU), cpu, or cuda. Default: ${DEFAULT-VALUE}.")
    String backend;

    Backend open(java.io.PrintStream err) {
        switch (backend) {
            case "cpu", "auto" -> {
                Backend be = CpuBackend.create();
                err.println("backend: " + be.name() + (backend.equals("auto") ? " (auto: the CUDA backend is not in this build)" : ""));
                return be;
            }
            case "cuda" -> throw new UserError("--backend cuda: the CUDA backend is not in this build");
            default -> throw new UserError("--backend " + backend + ": expected auto, cpu or cuda");
        }
    }
}
