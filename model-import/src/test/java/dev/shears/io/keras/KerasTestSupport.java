package dev.shears.io.keras;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Tensor;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Shared test helpers: resources, raw HDF5 reads (independent of the importer), node-by-node forward. */
final class KerasTestSupport {
    private KerasTestSupport() {}

    /** An array read straight from an HDF5 dataset. */
    record Array(int[] dims, float[] data) {
        int batch() { return dims[0]; }
        int[] perSample() { return Arrays.copyOfRange(dims, 1, dims.length); }
    }

    static Path resource(String rel) {
        var url = KerasTestSupport.class.getResource("/keras/" + rel);
        assertNotNull(url, "test resource keras/" + rel);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Array read(Path h5, String path) {
        try (HdfFile f = new HdfFile(h5)) {
            Dataset ds = f.getDatasetByPath(path);
            Object flat = ds.getDataFlat();
            float[] data;
            if (flat instanceof float[] fl) data = fl;
            else {
                double[] d = (double[]) flat;
                data = new float[d.length];
                for (int i = 0; i < d.length; i++) data[i] = (float) d[i];
            }
            return new Array(ds.getDimensions(), data);
        }
    }

    static List<String> children(Path h5, String group) {
        try (HdfFile f = new HdfFile(h5)) {
            return new ArrayList<>(((Group) f.getByPath(group)).getChildren().keySet());
        }
    }

    /** Inference forward pass node by node, downloading every node's output as soon as it is computed. */
    static Map<String, float[]> forwardAll(Model model, Backend backend, List<Tensor> inputs) {
        ExecContext ctx = ExecContext.inference(backend);
        Map<String, Tensor> values = new HashMap<>();
        Map<String, float[]> host = new HashMap<>();
        for (int i = 0; i < inputs.size(); i++) values.put(model.inputs().get(i).name(), inputs.get(i));
        for (Model.Node n : model.nodes()) {
            List<Tensor> ins = new ArrayList<>();
            for (String s : n.inputs()) ins.add(values.get(s));
            Tensor out = n.layer().forward(ctx, ins);
            values.put(n.name(), out);
            host.put(n.name(), backend.download(out));
        }
        return host;
    }

    static float[] predict(Model model, Backend backend, float[] input, int batch) {
        Tensor x = backend.upload(input, model.inputs().get(0).shape().withBatch(batch));
        return backend.download(model.forward(ExecContext.inference(backend), x));
    }

    /** |expected - actual| <= atol everywhere, reporting the first mismatches with their indices. */
    static void assertClose(float[] expected, float[] actual, double atol, String what) {
        assertClose(expected, actual, atol, 0, what);
    }

    /** |expected - actual| <= atol + rtol * |expected| everywhere, reporting the first mismatches. */
    static void assertClose(float[] expected, float[] actual, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        StringBuilder bad = new StringBuilder();
        int count = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= atol + rtol * Math.abs(expected[i]))) {
                if (count++ < 5) bad.append(String.format(" [%d] expected %.7g got %.7g;", i, expected[i], actual[i]));
                worst = Double.isNaN(d) ? Double.NaN : Math.max(worst, d);
            }
        }
        if (count > 0) throw new AssertionError(what + ": " + count + " of " + expected.length + " values differ by more than " + atol + " + " + rtol + " * |expected|"
                + " (worst " + worst + "):" + bad);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }

    static float[] random(int n, long seed, float scale) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return out;
    }
}
