package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.io.keras.KerasExporter;
import dev.shears.io.onnx.OnnxExporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code shears export --model FILE --format onnx|keras --out FILE}. */
@Command(name = "export", description = "Write a model as ONNX (zeros kept exactly, optionally sparse initializers) or Keras HDF5.")
final class ExportCommand implements Callable<Integer> {
    enum Format { onnx, keras }

    @Mixin ModelOption modelOption;

    @Option(names = "--format", required = true, description = "onnx or keras.")
    Format format;

    @Option(names = "--sparse-initializers", description = "ONNX: write pruned kernels as sparse_initializer (COO) instead of dense.")
    boolean sparseInitializers;

    @Option(names = "--out", required = true, description = "Output file (.onnx or .h5). Never an input.")
    Path out;

    @Override public Integer call() throws Exception {
        try (Backend be = CpuBackend.create()) {
            ModelSource src = modelOption.load(be);
            src.refuseAsOutput(out, "--out");
            switch (format) {
                case onnx -> OnnxExporter.write(src.model(), out, new OnnxExporter.Options(sparseInitializers, src.path()));
                case keras -> KerasExporter.export(src.model(), out, src.inputs());
            }
            System.err.println("export: " + src.description() + " -> " + out + " (" + format + ")");
            return 0;
        }
    }
}
