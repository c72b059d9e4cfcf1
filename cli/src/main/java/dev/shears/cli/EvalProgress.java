package dev.shears.cli;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;
import dev.shears.core.sparse.PlanProgress;
import dev.shears.core.tensor.Tensor;

import java.util.function.BiFunction;

/**
 * Progress of {@code eval} over the test set: counts the samples of each batch as its forward
 * pass returns and draws {@link Progress}'s bar ("eval [###...] 4096/10000 samples"). It wraps
 * the forward path given to {@link Evaluator#evaluateUntil}, so the scoring is Evaluator's own,
 * bit for bit, with or without it.
 */
final class EvalProgress {
    /** Counts nothing and draws nothing (callers without a bar). */
    static final EvalProgress NONE = new EvalProgress(null, 0);

    private final Progress progress;
    private final int total;
    private int done;
    /** Per-class tally of the scored batches ({@link #tallying}), or null. */
    private ClassAccuracy perClass;
    private Backend backend;
    /** Told the samples done, for what a Ctrl-C says ({@link Interruption#working}), or null. */
    private Interruption interruption;

    EvalProgress(Progress progress, int total) {
        this.progress = progress;
        this.total = total;
    }

    /** Also tallies each batch's answers per class into {@code perClass} (logits read from {@code backend}); returns this. */
    EvalProgress tallying(ClassAccuracy perClass, Backend backend) {
        this.perClass = perClass;
        this.backend = backend;
        return this;
    }

    /** Also tells {@code interruption} the samples done (it says how far the evaluation got if a signal stops it); returns this. */
    EvalProgress telling(Interruption interruption) {
        this.interruption = interruption;
        return this;
    }

    /**
     * {@code forwardUntil} (a batch [n, ...] and the node to stop at, to its output) that also counts the n samples, and
     * tallies their answers per class where asked ({@link #tallying}; the evaluator asks for its logits node only).
     */
    BiFunction<Tensor, String, Tensor> counting(BiFunction<Tensor, String, Tensor> forwardUntil) {
        if (progress == null && perClass == null && interruption == null) return forwardUntil;
        return (x, node) -> {
            Tensor out = forwardUntil.apply(x, node);
            int n = x.shape().dim(0);
            if (perClass != null) perClass.batch(backend, out, n);
            done += n;
            if (interruption != null) interruption.decoded(done);
            if (progress != null) progress.update("eval", done, total, "samples");
            return out;
        };
    }

    /** {@link Evaluator#evaluate(Model, Dataset, int)}'s dense forward path, counted. */
    Evaluator.Result evaluateDense(Model model, Dataset test, int batch) {
        return Evaluator.evaluateUntil(model, test, batch, counting(Evaluator.denseForward(model)));
    }

    int done() { return done; }

    /** The planner's progress on the same bar's stream ({@link PlanLine}); nothing for {@link #NONE}. */
    PlanProgress planning() { return progress == null ? PlanProgress.NONE : new PlanLine(progress); }
}
