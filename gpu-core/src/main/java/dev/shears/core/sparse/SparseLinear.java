package dev.shears.core.sparse;

/**
 * Inference for one fully connected layer, y = x W + b, with W held in whichever format the
 * planner measured fastest. The matrix is A = W^T [out, in] (see {@link SparseMatrix}); the bias,
 * if any, is [out]. Like a layer, one instance serves one thread at a time.
 */
public final class SparseLinear {
    private final String name;
    private final SparseMatrix weights;
    /** bias [out], or null */
    private final float[] bias;

    public SparseLinear(String name, SparseMatrix weights, float[] bias) {
        this.name = name;
        this.weights = weights;
        if (bias != null && bias.length != weights.rows())
            throw new IllegalArgumentException(name + ": bias has " + bias.length + " values for " + weights.rows() + " outputs");
        this.bias = bias == null ? null : bias.clone();
    }

    public String name() { return name; }
    public SparseMatrix weights() { return weights; }
    public SparseFormat format() { return weights.format(); }
    public int inFeatures() { return weights.cols(); }
    public int outFeatures() { return weights.rows(); }

    /** y [batch, out] = x [batch, in] W + b; y is overwritten. */
    public void forward(float[] x, int batch, float[] y) {
        if (x.length < (long) batch * inFeatures() || y.length < (long) batch * outFeatures())
            throw new IllegalArgumentException(name + ": batch " + batch + " needs x of " + (long) batch * inFeatures()
                    + " and y of " + (long) batch * outFeatures() + " values, got " + x.length + " and " + y.length);
        weights.multiply(x, batch, y);
        if (bias != null) {
            int out = outFeatures();
            for (int b = 0; b < batch; b++)
                for (int o = 0; o < out; o++) y[b * out + o] += bias[o];
        }
    }

    /** Convenience: a new output array. */
    public float[] forward(float[] x, int batch) {
        float[] y = new float[batch * outFeatures()];
        forward(x, batch, y);
        return y;
    }
}
