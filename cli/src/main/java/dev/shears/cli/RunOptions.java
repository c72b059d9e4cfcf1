package dev.shears.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** What train and prune share besides the model: data, seed, output folder, quiet. */
final class RunOptions {
    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist or a folder of IDX files. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of initialisation, shuffling and dropout. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--out", required = true, description = "Output folder: model.shears, report.json, report.html.")
    Path out;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;
}
