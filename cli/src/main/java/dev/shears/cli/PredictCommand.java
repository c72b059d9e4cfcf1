package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.io.FloatArray;
import dev.shears.core.data.Npy;
import dev.shears.core.data.SampleLayout;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.ImageFit;
import dev.shears.core.data.ImageFolder;
import dev.shears.core.nn.layers.Softmax;
import dev.shears.io.onnx.TensorProtoFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code shears predict --model FILE --input FILE --output FILE}: one forward pass. The input is a
 * tensor file, or image files (one, or a folder of them) decoded, converted to the model's channels
 * and resized to its input as {@code --data} image folders are ({@link ImageFolder#loadImages},
 * {@link SampleLayout#arrange}); for images, stdout gets one line per image with the top class: its
 * name where the model has class names, else its index, and its probability (the output itself
 * where the model ends in a softmax, else the softmax of the output).
 */
@Command(name = "predict", description = "One forward pass: input a .npy or ONNX TensorProto (.pb) file, or an image file or a folder of"
        + " images; output a .npy or .pb file. For images, prints each one's top class (its name where the model has class names) and probability.")
final class PredictCommand implements Callable<Integer> {
    @Mixin ModelOption modelOption;

    @Option(names = "--input", required = true, description = "Input tensor (.npy or .pb), with or without the batch dimension. Integer and bool arrays become floats as they are"
            + " (uint8 pixels are not divided by 255: scale them as the model was trained, e.g. to [0, 1] for Shears' --data)."
            + " Or an image file (PNG, JPEG, BMP, GIF), or a folder of them (its subfolders too, in sorted order; one size):"
            + " read as --data image folders are (values in [0, 1], converted to the model's channels and resized to its input).")
    Path input;

    @Option(names = "--output", required = true, description = "Where to write the output (.npy or .pb).")
    Path output;

    @Mixin BackendOption backendOption;

    @Spec CommandSpec spec;

    @Override public Integer call() throws Exception {
        // the output is checked before the model is loaded and run: a wrong name should fail at once
        OutputFile.requireFile(output, "--output");
        String lower = output.toString().toLowerCase(Locale.ROOT);
        if (!lower.endsWith(".pb") && !lower.endsWith(".npy")) throw new UserError("--output " + output + ": use a .npy or .pb file name");
        if (input.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize()))
            throw new UserError("--output " + output + " is the --input file; choose another path");
        modelOption.check(false);
        modelOption.refuseAsOutput(output, "--output");
        boolean images = Files.isDirectory(input) || ImageFolder.isImageName(input.getFileName().toString());
        // a missing input is refused before the model loads, as a tensor file's is by read()
        if (images && !Files.exists(input)) throw new UserError("--input " + input + ": no such file");
        FloatArray in = images ? null : read(input);
        try (Backend be = backendOption.open(System.err)) {
            // a Ctrl-C says what it was doing and that nothing was written (Shears.execute removes the hook when predict returns)
            Progress bar = new Progress(System.err, false);
            Interruption onSignal = Interruption.forLoading(null, null, System.err, bar);
            onSignal.working("loading --model " + modelOption.model, 0, null);
            ModelSource src = modelOption.load(be);
            Model m = src.model();
            Shape sample = m.inputs().get(0).shape();
            ImageFolder.Images pictures = null;
            if (images) {
                // a folder of thousands of images decodes for minutes: counted as they decode
                onSignal.working("decoding the images of --input " + input, 0, "image");
                pictures = ImageFolder.loadImages(input, System.err, DecodeLine.of(bar, onSignal));
                String mismatch = ImageFit.fits(pictures.data().sampleShape(), sample) ? null : SampleLayout.mismatch(pictures.data().sampleShape(), sample);
                if (mismatch != null) throw new UserError("--input " + input + ": " + mismatch);
                Dataset fitted = SampleLayout.arrange(pictures.data(), sample, System.err);
                in = new FloatArray(fitted.sampleShape().withBatch(fitted.count()), fitted.features());
            }
            int batch = batchOf(in.shape(), sample, input);
            onSignal.working("running " + src.description() + " on " + Plural.of(batch, "sample"), 0, null);
            Tensor x = be.upload(in.data(), sample.withBatch(batch));
            Tensor y = m.forward(ExecContext.inference(be), x);
            float[] out = be.download(y);
            onSignal.disarm(); // the output is written next: "nothing was written" would no longer be true
            FloatArray result = new FloatArray(y.shape(), out);
            if (lower.endsWith(".pb")) TensorProtoFiles.write(output, result, m.outputName());
            else Npy.write(output, result.shape(), result.data());
            System.err.println("predict: " + in.shape() + " -> " + y.shape() + " written to " + output);
            if (pictures != null) printTop(pictures.files(), out, batch, m, spec.commandLine().getOut());
            return 0;
        }
    }

    /**
     * One line per image: {@code FILE: CLASS (P)}, CLASS the output with the highest value, named
     * by the model's class names where it has them (else {@code class I}), P its probability.
     */
    static void printTop(List<Path> files, float[] out, int batch, Model m, PrintWriter stdout) {
        int classes = out.length / batch;
        boolean probabilities = m.layer(m.outputName()) instanceof Softmax s && !s.log();
        List<String> names = m.classNames();
        for (int i = 0; i < batch; i++) {
            int at = i * classes, top = 0;
            for (int c = 1; c < classes; c++) if (out[at + c] > out[at + top]) top = c;
            double p;
            if (probabilities) p = out[at + top];
            else { // softmax of the outputs at the top one: 1 / sum exp(o_c - o_top), which cannot overflow
                double sum = 0;
                for (int c = 0; c < classes; c++) sum += Math.exp(out[at + c] - out[at + top]);
                p = 1 / sum;
            }
            String label = top < names.size() ? names.get(top) : dev.shears.cli.report.ClassLabels.unnamed(top);
            stdout.printf(Locale.ROOT, "%s: %s (%.3f)%n", files.get(i), label, p);
        }
        stdout.flush();
    }

    /**
     * How many samples {@code in} holds for a model taking {@code sample}: [N, ...sample] or one
     * [...sample]; dimensions of 1 may come or go ([N, 28, 28] for [1, 28, 28]), and a model
     * taking a flat vector takes any sample of its size ([N, 28, 28] for [784]), since neither
     * moves a value. Any other shape of the right size is refused: it was read as the model's
     * layout, so an NHWC [1, 224, 224, 3] image ran through a [3, 224, 224] model as scrambled
     * pixels, with no error.
     */
    static int batchOf(Shape in, Shape sample, Path input) {
        long n = in.size(), per = sample.size();
        if (n % per != 0)
            throw new UserError("--input " + input + " has shape " + in + " (" + n + " values), which is not a batch of the model's input "
                    + sample + " (" + per + " values each)");
        int[] d = in.dims();
        if (sameLayout(d, sample) && n == per) return 1;
        if (d.length > 0 && sameLayout(Arrays.copyOfRange(d, 1, d.length), sample) && d[0] * per == n) return d[0];
        throw new UserError("--input " + input + " has shape " + in + ": the values of [N, " + String.join(", ",
                Arrays.stream(sample.dims()).mapToObj(Integer::toString).toList()) + "] in another layout, which the model would read "
                + "scrambled; reorder its axes to that (e.g. numpy x.transpose(0, 3, 1, 2) for NHWC images into NCHW)");
    }

    /** Whether {@code dims} hold a sample of {@code sample} in its own order (dimensions of 1 aside), or flatten into it. */
    private static boolean sameLayout(int[] dims, Shape sample) {
        return SampleLayout.sameLayout(dims, sample);
    }

    private static FloatArray read(Path p) throws java.io.IOException {
        String lower = p.toString().toLowerCase(Locale.ROOT);
        if (!java.nio.file.Files.isRegularFile(p)) throw new UserError("--input " + p + ": no such file");
        if (lower.endsWith(".npy")) return FloatArray.of(Npy.read(p));
        if (lower.endsWith(".pb")) return TensorProtoFiles.read(p);
        throw new UserError("--input " + p + ": use a .npy or ONNX TensorProto .pb file, an image file (PNG, JPEG, BMP, GIF) or a folder of images");
    }
}
