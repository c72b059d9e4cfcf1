package dev.shears.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.shears.core.cpu.CpuBackend;
import dev.shears.core.cpu.Parallel;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.sparse.SparseBench;
import dev.shears.core.tensor.Shape;
import dev.shears.io.onnx.OnnxExporter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The peer: ONNX Runtime's dense CPU inference of the same 4096 -> 4096 layer (no bias), exported
 * by Shears' own ONNX exporter, with as many intra-op threads as Shears uses.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class OrtDenseBench {
    @Param({"4096"}) public int size;
    @Param({"0.9"}) public double sparsity;
    @Param({"1", "64"}) public int batch;

    private OrtEnvironment env;
    private OrtSession session;
    private OnnxTensor input;
    private String inputName;

    @Setup public void setup() throws OrtException {
        CpuBackend be = CpuBackend.create();
        Model model = Model.builder().input("input", Shape.of(size)).then(new Dense("fc", size, size, false)).build().bind(be, 1);
        float[] w = SparseBench.randomSparse(size, size, sparsity, 2024); // the same values as SparseLayerBench (A = W^T)
        be.write(w, 0, model.parameter("fc/kernel").value(), 0, w.length);
        byte[] onnx = OnnxExporter.toProto(model, OnnxExporter.Options.defaults()).toByteArray();
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(Parallel.threads());
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = env.createSession(onnx, so);
        inputName = session.getInputNames().iterator().next();
        SplittableRandom rng = new SplittableRandom(3);
        float[] x = new float[batch * size];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[]{batch, size});
    }

    @Benchmark public Object layer() throws OrtException {
        try (OrtSession.Result r = session.run(Map.of(inputName, input))) {
            return r.get(0).getValue() != null ? Boolean.TRUE : Boolean.FALSE;
        }
    }

    @TearDown(Level.Trial) public void close() throws OrtException {
        input.close();
        session.close();
    }
}
