package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.Shape;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --model FILE|ARCH [--weights FILE.h5]}, shared by every command that reads a model. */
final class ModelOption {
    @Option(names = "--model", required = true,
            description = "Model file (.shears, .h5, .keras, a Keras .json with --weights, .onnx) or, where training, an architecture (lenet-300-100, lenet-5, mnist-cnn, mobilenet-v2-mini).")
    String model;

    @Option(names = "--weights", description = "Weights HDF5 for a Keras config .json.")
    Path weights;

    /**
     * The checks of --model and --weights that read nothing ({@link ModelSource#check}), for a
     * command to make before its slow work; {@code architectureAllowed} where it builds one.
     */
    void check(boolean architectureAllowed) {
        ModelSource.check(model, weights, architectureAllowed);
    }

    /**
     * Refuses an output path that is the --model or the --weights file, before anything is loaded
     * (a loaded {@link ModelSource#refuseAsOutput} makes the same check on the files it read).
     */
    void refuseAsOutput(Path out, String option) { ModelSource.refuseAsOutput(out, option, Path.of(model), weights); }

    /** A model file, bound to {@code backend}; architectures need {@link #load(Backend, Shape, int, long)}. */
    ModelSource load(Backend backend) {
        return ModelSource.load(model, weights, backend, null, 0, 0);
    }

    /** A model file or a built-in architecture sized for the data, bound to {@code backend}. */
    ModelSource load(Backend backend, Shape sampleShape, int classes, long seed) {
        return ModelSource.load(model, weights, backend, sampleShape, classes, seed);
    }
}
