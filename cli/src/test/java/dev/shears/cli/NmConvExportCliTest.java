package dev.shears.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.io.onnx.proto.ModelProto;
import dev.shears.io.onnx.proto.NodeProto;
import dev.shears.io.onnx.proto.TensorProto;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code prune --structure 2:4} on LeNet-5 (conv1 1->6 5x5, conv2 6->16 5x5, fc 400-120-84-10)
 * exported to ONNX and Keras: checked on the exported tensors themselves, not through Shears'
 * reader, that every Conv2D kernel follows NVIDIA's 2:4 grouping (Apex ASP m4n2_1d, what TensorRT
 * deploys): in the ONNX OIHW kernel each group of 4 consecutive input channels at a fixed
 * (O, H, W) holds at most 2 nonzeros, and in the Keras [kh, kw, in, out] kernel the same along
 * {@code in}. conv2's 6 input channels make one full group (exactly 2 kept) and a short group of
 * 2 (both kept); conv1's single input channel leaves nothing to prune. {@code inspect} agrees.
 */
class NmConvExportCliTest {
    @TempDir Path dir;
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void twoOfFourLeNet5ExportsNvidiasPatternToOnnxAndKeras() throws Exception {
        Path data = CliTest.fashionMnistSlice(dir.resolve("fmnist"), 600, 200);
        Path t = dir.resolve("dense"), p = dir.resolve("pruned");
        CliRun train = shears("train", "--model", "lenet-5", "--data", data.toString(), "--epochs", "1", "--out", t.toString(),
                "--backend", "cpu", "--quiet");
        assertEquals(0, train.code(), train.err());
        CliRun prune = shears("prune", "--model", t.resolve("model.shears").toString(), "--data", data.toString(), "--structure", "2:4",
                "--epochs", "2", "--out", p.toString(), "--backend", "cpu", "--quiet", "--inference-batches", "0");
        assertEquals(0, prune.code(), prune.err());

        // inspect: conv2 and the Dense layers follow 2:4; conv1 (one input channel) is not pruned and shows no pattern
        JsonNode in = JSON.readTree(shears("inspect", "--model", p.resolve("model.shears").toString(), "--json").out());
        Map<String, JsonNode> layers = new HashMap<>();
        for (JsonNode l : in.get("layers")) layers.put(l.get("name").asText(), l);
        assertTrue(layers.get("conv1").get("pattern").isNull(), layers.get("conv1").toString());
        assertEquals(0.0, layers.get("conv1").get("sparsity").asDouble(), 1e-12, "1 input channel: only short groups of 1, all kept");
        assertEquals("2:4", layers.get("conv2").get("pattern").asText(), layers.get("conv2").toString());
        assertEquals(1.0 / 3, layers.get("conv2").get("sparsity").asDouble(), 1e-12, "2 of every 6 input channels pruned at each (o, r, s)");
        for (String d : new String[]{"fc1", "fc2", "fc3"}) assertEquals("2:4", layers.get(d).get("pattern").asText(), d);

        // ONNX: the Conv nodes' weight initializers, OIHW raw float32
        Path onnx = dir.resolve("lenet5-2of4.onnx");
        CliRun ex = shears("export", "--model", p.resolve("model.shears").toString(), "--format", "onnx", "--out", onnx.toString());
        assertEquals(0, ex.code(), ex.err());
        ModelProto model = ModelProto.parseFrom(Files.readAllBytes(onnx));
        Map<String, TensorProto> inits = new HashMap<>();
        for (TensorProto tp : model.getGraph().getInitializerList()) inits.put(tp.getName(), tp);
        int convs = 0;
        for (NodeProto n : model.getGraph().getNodeList()) {
            if (!n.getOpType().equals("Conv")) continue;
            TensorProto w = inits.get(n.getInput(1));
            assertNotNull(w, "initializer " + n.getInput(1));
            int[] d = w.getDimsList().stream().mapToInt(Long::intValue).toArray();
            assertEquals(4, d.length);
            float[] v = floats(w);
            boolean conv2 = d[1] == 6;
            // every group of 4 input channels at a fixed (O, H, W): at most 2 nonzeros, exactly 2 in conv2's full groups
            for (int o = 0; o < d[0]; o++)
                for (int h = 0; h < d[2]; h++)
                    for (int x = 0; x < d[3]; x++)
                        for (int i0 = 0; i0 < d[1]; i0 += 4) {
                            int nz = 0, len = Math.min(4, d[1] - i0);
                            for (int i = i0; i < i0 + len; i++) if (v[((o * d[1] + i) * d[2] + h) * d[3] + x] != 0f) nz++;
                            String at = n.getName() + " O " + o + " I " + i0 + ".." + (i0 + len - 1) + " H " + h + " W " + x;
                            assertTrue(nz <= 2, at + ": " + nz + " nonzeros");
                            if (conv2) assertEquals(Math.min(2, len), nz, at);
                        }
            if (conv2) {
                // and not the old grouping: some 4 consecutive elements of the flattened I*H*W window hold more than 2
                boolean flattenedViolated = false;
                int k = d[1] * d[2] * d[3];
                for (int o = 0; o < d[0] && !flattenedViolated; o++)
                    for (int c0 = 0; c0 < k; c0 += 4) {
                        int nz = 0;
                        for (int c = c0; c < Math.min(k, c0 + 4); c++) if (v[o * k + c] != 0f) nz++;
                        if (nz > 2) { flattenedViolated = true; break; }
                    }
                assertTrue(flattenedViolated, "conv2 is grouped along input channels, not along the flattened window");
            }
            convs++;
        }
        assertEquals(2, convs);

        // Keras HDF5: kernels [kh, kw, in, out], the groups along `in`
        Path h5 = dir.resolve("lenet5-2of4.h5");
        CliRun kx = shears("export", "--model", p.resolve("model.shears").toString(), "--format", "keras", "--out", h5.toString());
        assertEquals(0, kx.code(), kx.err());
        int kernels = 0;
        try (HdfFile f = new HdfFile(h5)) {
            for (Dataset ds : datasets(f)) {
                int[] d = ds.getDimensions();
                if (d.length != 4) continue;
                float[][][][] k = (float[][][][]) ds.getData();
                for (int h = 0; h < d[0]; h++)
                    for (int x = 0; x < d[1]; x++)
                        for (int o = 0; o < d[3]; o++)
                            for (int i0 = 0; i0 < d[2]; i0 += 4) {
                                int nz = 0, len = Math.min(4, d[2] - i0);
                                for (int i = i0; i < i0 + len; i++) if (k[h][x][i][o] != 0f) nz++;
                                assertTrue(nz <= 2, ds.getPath() + " [" + h + ", " + x + ", " + i0 + ".." + (i0 + len - 1) + ", " + o + "]: " + nz);
                                if (d[2] == 6) assertEquals(Math.min(2, len), nz, ds.getPath());
                            }
                kernels++;
            }
        }
        assertEquals(2, kernels, "conv1 and conv2 kernels in the Keras file");
    }

    private static float[] floats(TensorProto t) {
        if (t.getFloatDataCount() > 0) {
            float[] v = new float[t.getFloatDataCount()];
            for (int i = 0; i < v.length; i++) v[i] = t.getFloatData(i);
            return v;
        }
        ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }

    private static java.util.List<Dataset> datasets(Group g) {
        java.util.List<Dataset> out = new java.util.ArrayList<>();
        for (Node n : g.getChildren().values()) {
            if (n instanceof Dataset d) out.add(d);
            else if (n instanceof Group sub) out.addAll(datasets(sub));
        }
        return out;
    }
}
