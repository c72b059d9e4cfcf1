package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.ImageFit;
import dev.shears.core.data.SampleLayout;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.io.keras.KerasImporter;
import dev.shears.io.onnx.OnnxImporter;
import dev.shears.pruning.checkpoint.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Resolves {@code --model}: a built-in architecture name, or a file: {@code .shears} (Shears'
 * checkpoint), {@code .h5}/{@code .hdf5}/{@code .keras} (Keras), a Keras config {@code .json} plus
 * {@code --weights}, or {@code .onnx}.
 *
 * @param path    the file it came from, or null for a built-in architecture
 * @param weights the separate Keras weights file, or null
 */
public record ModelSource(Model model, String description, Path path, Path weights) {

    /** The files this model was read from: outputs must never be written over them. */
    public Path[] inputs() {
        return java.util.stream.Stream.of(path, weights).filter(java.util.Objects::nonNull).toArray(Path[]::new);
    }

    /** Refuses an output path that is one of {@link #inputs()}. */
    public void refuseAsOutput(Path out, String option) { refuseAsOutput(out, option, path, weights); }

    /**
     * Refuses {@code out} when it is the --model file or the --weights file (either may be null:
     * none), naming which; what {@link ModelOption} checks before anything loads, and a loaded
     * source on the files it read.
     */
    static void refuseAsOutput(Path out, String option, Path model, Path weights) {
        Path target = out.toAbsolutePath().normalize();
        if (model != null && target.equals(model.toAbsolutePath().normalize()))
            throw new UserError(option + " " + out + " is an input of this run (the --model file); choose another path");
        if (weights != null && target.equals(weights.toAbsolutePath().normalize()))
            throw new UserError(option + " " + out + " is an input of this run (the --weights file); choose another path");
    }

    public static ModelSource load(String spec, Path weights, Backend backend, Shape sampleShape, int classes, long seed) {
        Path p = Path.of(spec);
        String lower = spec.toLowerCase(Locale.ROOT);
        if (!check(spec, weights, sampleShape != null)) {
            // the convolutional ones take [C, H, W]: built for that from grayscale [H, W] or channels-last [H, W, C]
            // samples, which arrange() then moves; the MLP flattens any shape as it is
            Shape in = spec.equals("lenet-300-100") ? sampleShape : SampleLayout.imageShape(sampleShape);
            Model m = Architectures.create(spec, in, classes).bind(backend, seed);
            return new ModelSource(m, spec, null, null);
        }
        ModelSource src;
        if (lower.endsWith(".shears")) {
            Checkpoint c = Checkpoint.read(p, backend);
            src = new ModelSource(c.model(), p.getFileName().toString(), p, null);
        } else if (lower.endsWith(".onnx")) {
            src = new ModelSource(OnnxImporter.load(p, backend), p.getFileName().toString(), p, null);
        } else { // .h5, .hdf5, .keras, or a .json with --weights: check let nothing else through
            src = new ModelSource(KerasImporter.load(p, Optional.ofNullable(weights), backend), p.getFileName().toString(), p, weights);
        }
        if (sampleShape != null) src.requireFits(spec, sampleShape, classes);
        return src;
    }

    /**
     * The checks of {@code --model} and {@code --weights} that read no model: a built-in
     * architecture's name (where {@code architectureAllowed}: train, prune and eval, which know the
     * input shape from --data), or an existing file of a known type (a Keras config {@code .json}
     * with its --weights file). {@link #load} makes them first; a command makes them before its
     * slow work (loading data, opening a GPU) so that a typo fails at once.
     *
     * @return true for a model file, false for a built-in architecture
     * @throws UserError naming the option, the value and what to give instead
     */
    static boolean check(String spec, Path weights, boolean architectureAllowed) {
        Path p = Path.of(spec);
        String lower = spec.toLowerCase(Locale.ROOT);
        boolean looksLikeFile = lower.endsWith(".shears") || lower.endsWith(".h5") || lower.endsWith(".hdf5") || lower.endsWith(".keras")
                || lower.endsWith(".json") || lower.endsWith(".onnx") || spec.contains("/");
        if (Files.isDirectory(p) && !Architectures.NAMES.contains(spec)) {
            Path inside = p.resolve("model.shears");
            throw new UserError("--model " + spec + " is a folder, not a model file"
                    + (Files.isRegularFile(inside) ? "; the run saved there is " + inside : ""));
        }
        if (!looksLikeFile) {
            if (!Architectures.NAMES.contains(spec))
                throw new UserError("--model " + spec + ": not a file and not a built-in architecture (" + String.join(", ", Architectures.NAMES) + ")");
            // only train, prune and eval (which read --data, and so know the input shape) build an architecture
            if (!architectureAllowed)
                throw new UserError("--model " + spec + " is a built-in architecture, not a model file; this command needs a model file."
                        + " Train one first (shears train --model " + spec + " --data fashion-mnist --out DIR) and give DIR/model.shears");
            return false;
        }
        if (!Files.isRegularFile(p)) throw new UserError("--model " + spec + ": no such file");
        if (weights != null && !Files.isRegularFile(weights))
            throw new UserError("--weights " + weights + (Files.isDirectory(weights) ? " is a folder; give the weights .h5 file" : ": no such file"));
        if (lower.endsWith(".json") && weights == null)
            throw new UserError("--model " + spec + " is a Keras config: pass its weights with --weights FILE.h5");
        if (!(lower.endsWith(".shears") || lower.endsWith(".onnx") || lower.endsWith(".h5") || lower.endsWith(".hdf5") || lower.endsWith(".keras")
                || lower.endsWith(".json")))
            throw new UserError("--model " + spec + ": unknown file type (expected .shears, .h5, .keras, .json + --weights, or .onnx)");
        return true;
    }

    /**
     * Refuses a model file that cannot take the data's samples (another size, or the same values
     * in a layout {@link SampleLayout} cannot move) or has fewer outputs than the data has classes,
     * as a usage error naming both: the trainer and evaluator found it too, but as an internal
     * error (exit 1) after the data and the model had loaded. {@link #arrange} then moves
     * channels-last samples into the model's layout. Samples shaped as images [1 or 3, H, W] for a
     * model taking another image shape pass here: images decoded from class folders are converted
     * and resized by {@link #arrange} ({@link ImageFit}), arrays of that shape are refused there.
     */
    void requireFits(String spec, Shape sampleShape, int classes) {
        Shape in = model.inputs().get(0).shape();
        // images from an image folder are converted to the model's channels and resized to its input by arrange(): sizes do
        // not decide for them, and arrays of such shapes (IDX, NumPy) that reach arrange() are refused there (a DataException, exit 2)
        boolean image = ImageFit.fits(sampleShape, in) && !SampleLayout.sameLayout(sampleShape.dims(), in);
        if (!image && in.size() != sampleShape.size())
            throw new UserError("--model " + spec + " takes inputs of shape " + in + " (" + in.size() + " values), but the --data samples have shape "
                    + sampleShape + " (" + sampleShape.size() + " values); give a model made for this data, or data of the model's input shape");
        String mismatch = image ? null : SampleLayout.mismatch(sampleShape, in);
        if (mismatch != null)
            throw new UserError("--model " + spec + " does not fit the --data: " + mismatch);
        // a model with class names: arrange() first matches the data's class folders to them and names a folder the model
        // lacks, which says more than a count of outputs (11 folders for 10 named outputs: which one is extra?)
        if (model.classNames().isEmpty()) requireOutputs(spec, classes);
    }

    /** Refuses data whose labels go past the model's outputs, naming both counts (and the model's classes where it has names). */
    private void requireOutputs(String spec, int classes) {
        long outputs = model.outputShape().size();
        if (classes > 0 && outputs < classes)
            throw new UserError("--model " + spec + " has " + outputs + " outputs, but the --data labels go up to " + (classes - 1)
                    + " (" + classes + " classes): label " + (classes - 1) + " has no output; give a model with one output per class"
                    + (model.classNames().isEmpty() ? "" : " (this one was trained on the classes " + ClassNames.quoted(model.classNames()) + ")"));
    }

    /** The --model value as messages name it: the file's path as given, else the description (a built-in architecture). */
    private String given() { return path != null ? path.toString() : description; }

    /**
     * The data in this model's input layout (see {@link SampleLayout#arrange}): the same sets, or
     * their samples moved in place (channels-last images for an NCHW model), said on stderr; their
     * labels matched to the model's class names where both have names ({@link ClassNames}).
     *
     * @throws UserError when the data has class folders the model has no class of, or more classes than it has outputs
     */
    Split arrange(Split data) {
        Shape in = model.inputs().get(0).shape();
        data = ClassNames.reconcile(model, given(), data, System.err);
        requireOutputs(given(), Math.max(data.train().classes(), data.test().classes())); // after the names: see requireFits
        return new Split(SampleLayout.arrange(data.train(), in, System.err), SampleLayout.arrange(data.test(), in, System.err));
    }

    /** One data set in this model's input layout (see {@link #arrange(Split)}). */
    Dataset arrange(Dataset data) {
        data = ClassNames.reconcile(model, given(), data, System.err);
        requireOutputs(given(), data.classes()); // after the names: see requireFits
        return SampleLayout.arrange(data, model.inputs().get(0).shape(), System.err);
    }
}
