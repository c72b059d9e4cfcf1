package dev.shears.core.sparse;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Model;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * The whole-model check behind "a planned model is never slower than the dense one", shared by
 * the CPU ({@link SparseModel#keepOnlyIfFaster}) and the CUDA
 * ({@code CudaSparseModel#keepOnlyIfFaster}) sparse models. Each layer's format is chosen on its
 * own, but what a user runs is the whole graph: the formats' extra launches, copies and output
 * buffers can make a plan whose every layer won its own timing lose as a whole. So the model's own
 * (dense) forward is timed against the planned one and the plan is kept only when it is faster by
 * the planner's margin; otherwise every layer goes back to dense.
 *
 * <p>Only how one forward pass is timed differs between backends (the CPU's wall clock, CUDA
 * events on the backend's stream): that is the {@link Timer}. Tests inject one to decide
 * deterministically (timings on the CUDA emulator mean nothing).
 *
 * @param denseMs   the dense forward's time (ms; NaN when nothing was planned sparse, so nothing was timed)
 * @param plannedMs the planned forward's time (ms; NaN likewise)
 * @param kept      whether the plan was kept (true when there was nothing to check)
 */
public record WholeModelCheck(double denseMs, double plannedMs, boolean kept) {

    /** Which forward pass a {@link Timer} is asked to time. */
    public enum Path { DENSE, PLANNED }

    /** The median milliseconds of one forward pass of {@code path}, running {@code forward} as often as it needs. */
    @FunctionalInterface
    public interface Timer {
        double medianMs(Path path, Runnable forward);
    }

    /** Nothing was planned sparse, so there is nothing to time: the plan (all dense) stands. */
    public static WholeModelCheck nothingSparse() { return new WholeModelCheck(Double.NaN, Double.NaN, true); }

    /**
     * Whether a plan running in {@code plannedMs} is kept against a dense forward of
     * {@code denseMs}: it must be faster by at least the fraction {@code margin} (the planner's
     * per-layer rule applied to the whole model). A NaN time never keeps the plan.
     */
    public static boolean keeps(double denseMs, double plannedMs, double margin) {
        if (margin < 0) throw new IllegalArgumentException("the margin must be at least 0, got " + margin);
        return plannedMs < denseMs * (1 - margin);
    }

    /**
     * The fallback batch both paths are timed on when no real inputs are at hand: {@code batch}
     * inputs of the model's input shape, uniform in [0, 1) from a fixed seed, uploaded to
     * {@code backend} (the caller closes it). It has no zeros, where real inputs have many (ReLU
     * outputs, blank pixels) that the dense batch-1 GEMM skips: on it the dense forward does more
     * work than on real data, which favours sparse plans. Time on real inputs where there are any.
     */
    public static Tensor randomBatch(Backend backend, Model model, int batch) {
        Shape in = model.inputs().getFirst().shape();
        float[] xs = new float[Math.multiplyExact(batch, (int) in.size())];
        SplittableRandom rng = new SplittableRandom(17);
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextDouble();
        return backend.upload(xs, in.withBatch(batch));
    }

    /**
     * A batch given to the check must be [batch, ...] of the model's input shape, at the planned
     * batch size: a plan timed at another size, or on misread samples, would be kept or sent back
     * on figures that say nothing about it.
     */
    public static void checkBatch(Model model, Tensor x, int batch) {
        Shape want = model.inputs().getFirst().shape().withBatch(batch);
        if (!want.equals(x.shape()))
            throw new IllegalArgumentException("the whole-model check's batch has shape " + x.shape() + " but model input '"
                    + model.inputs().getFirst().name() + "' planned at batch " + batch + " expects " + want
                    + ": time it on " + batch + " samples of the data the model was built for");
    }

    /**
     * Times {@code dense} and {@code planned} in {@code rounds} interleaved rounds (dense first in
     * each), keeps each path's fastest round (a slow phase of a shared machine, a JIT compile or a
     * GPU clock ramp in one round is not held against either path) and decides with {@link #keeps}.
     * With {@code settle} (null: none), rounds of both paths run untimed first until their times
     * are stable ({@link Settle#untilStable(Settle.Pass)}): best-of-rounds forgives one cold round,
     * not a whole check taken before the clocks, caches and JIT have settled, as the first
     * forwards of a freshly planned model are. The last settling passes (up to {@code rounds},
     * never the first, cold one) count as rounds ({@link Settle#untilStableTimed}; only the last
     * one when the loop stopped at its cap unstable): a settle that ended stable leaves no round to time (a pruned LeNet-5's check at batch 256 cost
     * 0.2-0.6 s a round on the shared 2-core machine, two rounds more after settling).
     *
     * <p>{@code planned} null: the planned forward runs the dense model's own products (every layer
     * dense), so only {@code dense} is timed and its time stands for both paths. Timing the same
     * products twice measured nothing but noise: a plan all dense at batch 1 once read "3.06x"
     * on a busy machine.
     */
    public static WholeModelCheck measure(Runnable dense, Runnable planned, Timer timer, int rounds, double margin, Settle settle) {
        if (rounds < 1) throw new IllegalArgumentException("the whole-model check needs at least one round, got " + rounds);
        Settle.Pass pass = () -> {
            double d = timer.medianMs(Path.DENSE, dense);
            return new double[] {d, planned == null ? d : timer.medianMs(Path.PLANNED, planned)};
        };
        double denseMs = Double.MAX_VALUE, plannedMs = Double.MAX_VALUE;
        int round = 0;
        if (settle != null) {
            double[][] last = settle.untilStableTimed(pass, rounds);
            if (last != null) for (double[] t : last) { // the settle loop's last passes are rounds like the others
                denseMs = Math.min(denseMs, t[0]);
                plannedMs = Math.min(plannedMs, t[1]);
                round++;
            }
        }
        for (; round < rounds; round++) {
            double[] t = pass.run();
            denseMs = Math.min(denseMs, t[0]);
            plannedMs = Math.min(plannedMs, t[1]);
        }
        return new WholeModelCheck(denseMs, plannedMs, keeps(denseMs, plannedMs, margin));
    }
}
