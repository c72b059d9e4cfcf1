package dev.shears.io.onnx;

import dev.shears.io.onnx.proto.GraphProto;
import dev.shears.io.onnx.proto.ModelProto;
import dev.shears.io.onnx.proto.NodeProto;
import dev.shears.io.onnx.proto.TensorProto;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The light models hold every weight as {@code ConstantOfShape(0.02)}, so their reference output
 * is the uniform softmax whatever the graph computes. To check the graphs for real, this replaces
 * each such node with a random initializer of the same shape (scaled by fan-in so activations stay
 * O(1) through 50 layers; batch-norm variances positive).
 */
final class LightModels {
    private LightModels() {}

    static Path randomized(Path original, Path dir, long seed) throws IOException {
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(original));
        GraphProto g = m.getGraph();
        Map<String, TensorData> inits = new HashMap<>();
        for (TensorProto t : g.getInitializerList()) inits.put(t.getName(), OnnxTensors.decode(t, original, t.getName()));
        Map<String, String> role = new HashMap<>(); // weight name -> how it is used
        for (NodeProto n : g.getNodeList()) {
            for (int i = 1; i < n.getInputCount(); i++) role.put(n.getInput(i), n.getOpType() + ":" + i);
        }
        SplittableRandom rng = new SplittableRandom(seed);
        GraphProto.Builder gb = g.toBuilder().clearNode();
        for (NodeProto n : g.getNodeList()) {
            if (!n.getOpType().equals("ConstantOfShape")) {
                gb.addNode(n);
                continue;
            }
            long[] dims = inits.get(n.getInput(0)).asLongs();
            float[] v = new float[(int) TensorData.count(dims)];
            String r = role.getOrDefault(n.getOutput(0), "");
            long fanIn = dims.length > 1 ? v.length / dims[0] : 1;
            for (int i = 0; i < v.length; i++) {
                double u = rng.nextDouble();
                v[i] = (float) switch (r) {
                    case "BatchNormalization:1" -> 0.5 + u;         // scale
                    case "BatchNormalization:4" -> 0.5 + u;         // variance
                    case "BatchNormalization:2", "BatchNormalization:3" -> (u - 0.5) * 0.2;
                    default -> dims.length > 1 ? (2 * u - 1) * Math.sqrt(6.0 / fanIn) : (u - 0.5) * 0.2;
                };
            }
            gb.addInitializer(OnnxTensors.encodeFloats(n.getOutput(0), dims, v));
        }
        Path out = dir.resolve("random_" + original.getFileName());
        Files.write(out, m.toBuilder().setGraph(gb).build().toByteArray());
        return out;
    }
}
