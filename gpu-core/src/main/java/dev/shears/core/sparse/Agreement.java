package dev.shears.core.sparse;

import dev.shears.core.backend.Backend;
import dev.shears.core.cpu.HostKernels;
import dev.shears.core.data.Dataset;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * Whether two forward passes of the same task (a dense model and its planned sparse form, or a
 * masked model and its thinned copy) classify the first test images alike: the one agreement check
 * behind {@link InferenceComparison} and {@link ModelComparison}.
 *
 * @param samples          test samples compared
 * @param samePredictions  of those, how many have the same arg-max under both passes
 * @param maxAbsDifference the largest |reference - other| over every output of those samples
 */
public record Agreement(int samples, int samePredictions, double maxAbsDifference) {

    /**
     * Runs {@code reference} and {@code other} on the first {@code min(samples, test.count())}
     * test images, {@code batch} at a time, uploaded to {@code backend} with the per-sample shape
     * {@code in} (a batch [N, ...] in, logits [N, classes] out; a result may be reused by the
     * pass's next call, so each is downloaded before the other runs).
     */
    public static Agreement measure(Backend backend, Shape in, Dataset test, int batch, int samples,
                                    UnaryOperator<Tensor> reference, UnaryOperator<Tensor> other) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        int per = test.sampleSize();
        int n = Math.min(samples, test.count());
        int same = 0;
        double maxDiff = 0;
        for (int start = 0; start < n; start += batch) {
            int b = Math.min(batch, n - start);
            try (Tensor x = backend.upload(Arrays.copyOfRange(test.features(), start * per, (start + b) * per), in.withBatch(b))) {
                float[] want = backend.download(reference.apply(x));
                float[] got = backend.download(other.apply(x));
                if (got.length != want.length)
                    throw new IllegalStateException("the two forward passes disagree on the output size: " + want.length + " against " + got.length
                            + " values for " + b + " samples");
                int outs = want.length / b;
                for (int s = 0; s < b; s++) {
                    if (HostKernels.argMax(want, s * outs, outs) == HostKernels.argMax(got, s * outs, outs)) same++;
                    for (int j = s * outs; j < (s + 1) * outs; j++) maxDiff = Math.max(maxDiff, Math.abs(want[j] - got[j]));
                }
            }
        }
        return new Agreement(n, same, maxDiff);
    }
}
