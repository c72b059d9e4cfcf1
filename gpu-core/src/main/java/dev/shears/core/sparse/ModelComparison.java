package dev.shears.core.sparse;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.ExecContext;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

/**
 * One model's forward against another's on the same backend, at one batch size: a masked model
 * against its thinned copy (channel pruning), timed and checked for agreement exactly as
 * {@link InferenceComparison} times and checks a dense model against its sparse plan, so the two
 * sections of a run report compare alike: both forwards on the first {@code batch} test images, in
 * {@link SparsePlanner#ROUNDS} interleaved rounds with each one's best round
 * ({@link WholeModelCheck#measure}), settled first on {@code settle}; then {@link Agreement} on the
 * first test images.
 *
 * @param batch      the batch size timed
 * @param denseMs    latency of one forward pass of the reference model (ms)
 * @param otherMs    latency of one forward pass of the other model (ms)
 * @param agreement  both models on the first test images
 */
public record ModelComparison(int batch, double denseMs, double otherMs, Agreement agreement) {

    /** How many times faster the other model ran. */
    public double speedup() { return denseMs / otherMs; }

    /**
     * Times {@code reference} against {@code other} (both bound to the same backend, both taking
     * the test set's samples) with {@code timer} (on the CPU {@link InferenceComparison#cpuTimer};
     * on CUDA the comparison's CUDA event timer) and compares them on up to
     * {@code agreementSamples} test images.
     */
    public static ModelComparison compare(Model reference, Model other, Dataset test, int batch, int agreementSamples,
                                          WholeModelCheck.Timer timer, Settle settle) {
        InferenceComparison.checkInputs(reference, test, batch);
        InferenceComparison.checkInputs(other, test, batch);
        Backend be = reference.backend();
        if (other.backend() != be)
            throw new IllegalArgumentException("both models must be bound to the same backend to compare their latency; the reference is on "
                    + be.name() + ", the other on " + (other.backend() == null ? "nothing" : other.backend().name()));
        ExecContext ctx = ExecContext.inference(be);
        Shape in = reference.inputs().getFirst().shape();
        WholeModelCheck times;
        try (Tensor x = InferenceComparison.timingBatch(be, in, test, batch)) {
            times = WholeModelCheck.measure(() -> reference.forward(ctx, x), () -> other.forward(ctx, x), timer, SparsePlanner.ROUNDS, 0, settle);
        }
        Agreement agree = Agreement.measure(be, in, test, batch, agreementSamples, x -> reference.forward(ctx, x), x -> other.forward(ctx, x));
        return new ModelComparison(batch, times.denseMs(), times.plannedMs(), agree);
    }
}
