package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.backend.Backends;
import picocli.CommandLine.Option;

/** {@code --backend auto|cpu|cuda}: says on stderr which backend it picked and why. */
final class BackendOption {
    @Option(names = "--backend", defaultValue = "auto", description = "auto (CUDA when a GPU and its libraries load, else CPU), cpu, or cuda. Default: ${DEFAULT-VALUE}.")
    String backend;

    Backend open(java.io.PrintStream err) {
        Backends.Selection s;
        try {
            s = Backends.create(backend);
        } catch (IllegalArgumentException e) {
            throw new UserError("--backend " + backend + ": expected auto, cpu or cuda");
        }
        err.println(s.reason());
        return s.backend();
    }
}
