package dev.shears.io.fuzz;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.fuzz.CorruptionCampaign;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.OnnxImporter;
import dev.shears.io.onnx.TensorProtoFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Seeded corruption campaign over ONNX models ({@link OnnxImporter#load}, what {@code --model
 * x.onnx} calls) and TensorProto files ({@link TensorProtoFiles#read}, what {@code predict --input
 * x.pb} calls), damaged as bytes and field by field ({@link OnnxMutations}): each damaged file
 * loads consistently or fails with an {@link ImportException} naming it.
 */
class OnnxCorruptionTest {
    private static final Duration LIMIT = Duration.ofSeconds(4);
    final Backend cpu = CpuBackend.create();

    @Test
    void damagedOnnxModelsLoadOrFailClearly(@TempDir Path dir) {
        long started = System.nanoTime();
        CorruptionCampaign c = new CorruptionCampaign(dir, ".onnx", f -> OnnxImporter.load(f, cpu), LoadedChecks::model, LIMIT,
                List.of(ImportException.class));
        long seed = 1;
        for (String m : List.of("onnx/pytorch-converted/test_Conv2d/model.onnx", "onnx/pytorch-converted/test_Linear/model.onnx",
                "onnx/pytorch-converted/test_BatchNorm2d_eval/model.onnx", "onnx/pytorch-converted/test_MaxPool2d/model.onnx",
                "onnx/light/light_squeezenet.onnx")) { // not alexnet or inception: their 7-61 M synthesised weights cost 0.1-1 s a case
            byte[] b = LoadedChecks.bytes(m);
            // boundaries: the first fields (ir_version, producer) and the middle, where the graph's nodes and initializers sit
            String name = Path.of(m).getParent().getFileName().toString();
            c.run(name, LoadedChecks.cases(b, seed, 2, 16, b.length / 2));
            c.run(name + "-fields", OnnxMutations.model(b, seed + 50, 60));
            seed++;
        }
        System.out.println("ONNX model campaign: " + c.summary() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        c.assertClean();
    }

    @Test
    void damagedTensorProtoFilesLoadOrFailClearly(@TempDir Path dir) {
        long started = System.nanoTime();
        CorruptionCampaign c = new CorruptionCampaign(dir, ".pb", TensorProtoFiles::read, LoadedChecks::array, LIMIT,
                List.of(ImportException.class));
        long seed = 100;
        for (String t : List.of("onnx/pytorch-converted/test_Conv2d/test_data_set_0/input_0.pb",
                "onnx/pytorch-converted/test_Linear/test_data_set_0/output_0.pb", "onnx/light/light_squeezenet_output_0.pb")) {
            byte[] b = LoadedChecks.bytes(t);
            String name = Path.of(t).getParent().getParent().getFileName() + "-" + Path.of(t).getFileName();
            c.run(name, LoadedChecks.cases(b, seed, 2, 8, 16));
            c.run(name + "-fields", OnnxMutations.tensor(b, seed + 50, 40));
            seed++;
        }
        System.out.println("TensorProto campaign: " + c.summary() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        c.assertClean();
    }
}
