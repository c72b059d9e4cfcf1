package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.nn.Model;
import dev.shears.io.keras.KerasExporter;
import dev.shears.io.onnx.OnnxExporter;
import dev.shears.pruning.thin.ChannelThinning;
import dev.shears.pruning.thin.ThinnedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code shears export --model FILE [--thin] [--format onnx|keras] --out FILE}. */
@Command(name = "export", description = {
        "Write a model as ONNX (zeros kept exactly, optionally sparse initializers) or Keras.",
        "Keras: --out NAME.keras writes a Keras 3 archive (keras.saving.load_model), --out NAME.h5 or .hdf5 a Keras 2 full-model HDF5 file."})
final class ExportCommand implements Callable<Integer> {
    enum Format { onnx, keras }

    @Mixin ModelOption modelOption;

    @Option(names = "--format", description = "onnx or keras. Default: from the --out file's extension (.onnx; .keras, .h5, .hdf5).")
    Format format;

    @Option(names = "--sparse-initializers", description = "ONNX: write pruned kernels as sparse_initializer (COO) instead of dense.")
    boolean sparseInitializers;

    @Option(names = "--thin", description = "Write the thinned model: output channels whose weights are all zero (structure: channels)"
            + " leave their layer, the channel-wise layers after it and the inputs of the layers that read them; the outputs stay the same."
            + " Layers whose zero channels cannot go exactly are kept whole, with a warning naming them.")
    boolean thin;

    @Option(names = "--out", required = true, description = "Output file: .onnx; for keras .keras (Keras 3) or .h5/.hdf5 (Keras 2). Never an input.")
    Path out;

    @Override public Integer call() throws Exception {
        // every check that needs no model comes before the (possibly slow) load, so a typo fails at once;
        // --out equal to --model first, since that file's name would also fail the name checks, with a less direct message
        modelOption.check(false);
        modelOption.refuseAsOutput(out, "--out");
        if (format == null) format = formatOf(out);
        if (format == Format.keras) checkKerasName(out);
        else checkOnnxName(out);
        // Keras has no sparse tensors: the flag was ignored and a dense file written, as if it had been honoured
        if (sparseInitializers && format != Format.onnx)
            throw new UserError("--sparse-initializers applies to --format onnx only (Keras files store every kernel dense, zeros kept exactly); "
                    + "drop it, or export with --format onnx");
        OutputFile.requireFile(out, "--out");
        try (Backend be = CpuBackend.create()) {
            ModelSource src = modelOption.load(be);
            Model model = src.model();
            if (thin) {
                ThinnedModel t = ChannelThinning.thin(model);
                for (String w : t.warnings()) System.err.println("export: warning: " + w);
                if (t.removedChannels() == 0)
                    System.err.println("export: --thin removed nothing: " + (t.warnings().isEmpty()
                            ? "no Dense/Conv2D layer of " + src.description() + " has an all-zero output channel (prune it with --structure channels"
                              + " first); the model is written as it is"
                            : "no all-zero output channel could be removed (see the warnings above); the model is written as it is"));
                else {
                    System.err.printf(Locale.ROOT, "export: thinned %d output channels: %d parameters instead of %d%n",
                            t.removedChannels(), t.parametersAfter(), t.parametersBefore());
                    for (String line : ThinningReport.layerLines(model, t)) System.err.println(line);
                }
                model = t.model();
            }
            switch (format) {
                case onnx -> OnnxExporter.write(model, out, new OnnxExporter.Options(sparseInitializers, src.path()));
                case keras -> KerasExporter.export(model, out, src.inputs());
            }
            System.err.println("export: " + src.description() + " -> " + out + " (" + describe(format, out) + ")");
            return 0;
        }
    }

    /**
     * The format the --out file's name says: {@code .onnx}, or {@code .keras}, {@code .h5}, {@code .hdf5} (any case);
     * another name is refused asking for --format, as the file would not say what it holds.
     */
    static Format formatOf(Path out) {
        String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".onnx")) return Format.onnx;
        if (name.endsWith(".keras") || name.endsWith(".h5") || name.endsWith(".hdf5")) return Format.keras;
        throw new UserError("--out " + out + ": the name does not say the format; give --format onnx or --format keras, or name the file"
                + " .onnx, .keras (Keras 3) or .h5 / .hdf5 (Keras 2)");
    }

    /** Extensions that Shears (and other tools) read as another format: an ONNX file so named would not load again. */
    private static final java.util.List<String> OTHER_FORMATS = java.util.List.of(".h5", ".hdf5", ".keras", ".shears", ".json", ".npy", ".pb");

    /** Refuses an ONNX output named like another model or tensor format (model.h5); other names (.onnx, .bin) pass. */
    static void checkOnnxName(Path out) {
        String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
        for (String ext : OTHER_FORMATS)
            if (name.endsWith(ext))
                throw new UserError("--out " + out + " has extension '" + ext + "', which is read as another format; with --format onnx name it .onnx");
    }

    /** The Keras format is chosen by the file name; any other name is a usage error naming the ones accepted. */
    static void checkKerasName(Path out) {
        String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".keras") || name.endsWith(".h5") || name.endsWith(".hdf5")) return;
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "has no extension" : "has extension '" + name.substring(dot) + "'";
        throw new UserError("--out " + out + " " + ext + "; with --format keras name it .keras (Keras 3 archive) or .h5 / .hdf5 (Keras 2 HDF5)");
    }

    private static String describe(Format format, Path out) {
        if (format == Format.onnx) return "onnx";
        return out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".keras") ? "keras 3 archive" : "keras 2 hdf5";
    }
}
