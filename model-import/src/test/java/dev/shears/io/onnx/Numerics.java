package dev.shears.io.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.io.FloatArray;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Running models in Shears and in ONNX Runtime, and comparing outputs, for the tests. */
final class Numerics {
    private Numerics() {}

    /** The tolerance ONNX's own backend test runner uses. */
    static final double RTOL = 1e-3, ATOL = 1e-7;

    /** One inference forward pass in Shears. */
    static FloatArray shears(Model m, FloatArray input) {
        Backend b = m.backend();
        Tensor x = b.upload(input.data(), input.shape());
        Tensor y = m.forward(ExecContext.inference(b), x);
        return new FloatArray(y.shape(), b.download(y));
    }

    /** One run of {@code model} in ONNX Runtime (CPU, one thread), single input and output. */
    static FloatArray onnxRuntime(Path model, FloatArray input) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            opts.setInterOpNumThreads(1);
            try (OrtSession s = env.createSession(model.toString(), opts)) {
                String name = s.getInputNames().iterator().next();
                long[] dims = new long[input.shape().rank()];
                for (int i = 0; i < dims.length; i++) dims[i] = input.shape().dim(i);
                try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.data()), dims);
                     OrtSession.Result r = s.run(Map.of(name, t))) {
                    OnnxTensor out = (OnnxTensor) r.get(0);
                    long[] od = out.getInfo().getShape();
                    FloatBuffer fb = out.getFloatBuffer();
                    float[] v = new float[fb.remaining()];
                    fb.get(v);
                    return new FloatArray(Shape.of(od), v);
                }
            }
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime failed on " + model + ": " + e.getMessage(), e);
        }
    }

    static FloatArray random(long seed, float lo, float hi, int... dims) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[Shape.of(dims).intSize()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return new FloatArray(Shape.of(dims), v);
    }

    /** arange(n) / n in the given shape: the input the light models' expected outputs were made with. */
    static FloatArray arange(int... dims) {
        float[] v = new float[Shape.of(dims).intSize()];
        for (int i = 0; i < v.length; i++) v[i] = (float) i / v.length;
        return new FloatArray(Shape.of(dims), v);
    }

    /** |actual - expected| <= atol + rtol * |expected| everywhere, listing the first mismatches. */
    static void assertClose(FloatArray expected, FloatArray actual, double rtol, double atol, String what) {
        assertEquals(expected.shape().size(), actual.shape().size(), what + ": element count, expected shape " + expected.shape() + " got " + actual.shape());
        StringBuilder bad = new StringBuilder();
        int mismatches = 0;
        double worst = 0;
        for (int i = 0; i < expected.data().length; i++) {
            double e = expected.data()[i], a = actual.data()[i];
            double err = Math.abs(a - e);
            double limit = atol + rtol * Math.abs(e);
            if (!(err <= limit)) {
                if (mismatches < 5) bad.append(String.format("%n  [%d] expected %.8g got %.8g (|diff| %.3g > %.3g)", i, e, a, err, limit));
                mismatches++;
            }
            worst = Math.max(worst, err / (atol + rtol * Math.abs(e)));
        }
        if (mismatches > 0)
            fail(what + ": " + mismatches + " of " + expected.data().length + " elements outside rtol " + rtol + ", atol " + atol
                    + " (worst error/limit " + String.format("%.3g", worst) + ")" + bad);
    }
}
