package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.backend.Backends;
import picocli.CommandLine.Option;

/** {@code --backend auto|cpu|cuda}: auto says on stderr which it picked and why. */
final class BackendOption {
    @Option(names = "--backend", defaultValue = "auto", description = "auto (CUDA when a GPU and its libraries load, else CPU), cpu, or cuda. Default: ${DEFAULT-VALUE}.")
    String backend;

    Backend open(java.io.PrintStream err) {
        Backends.Selection s;
        try {
            s = Backends.select(backend);
        } catch (IllegalArgumentException e) {
            throw new UserError("--backend " + backend + ": " + e.getMessage());
        }
        err.println("backend: " + s.backend().name() + " (" + s.reason() + ")");
        return s.backend();
    }
}
