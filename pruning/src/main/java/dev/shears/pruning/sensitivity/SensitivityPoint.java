package dev.shears.pruning.sensitivity;

/**
 * One measurement: a layer pruned alone to {@code target}, the rest of the model as it was.
 *
 * @param target   the sparsity asked for (for N:M, {@code 1 - N/M})
 * @param sparsity the layer's sparsity actually reached (its weights' zeros): the target to within one
 *                 weight (with {@code channels} or {@code block:RxC}, to within one channel or block, and
 *                 at least one kept), more when the layer was already sparser (masks only gain zeros),
 *                 less for N:M when the layer has short groups (fewer than M inputs)
 * @param accuracy test accuracy in [0, 1] with the layer pruned
 * @param loss     mean test cross-entropy with the layer pruned
 */
public record SensitivityPoint(double target, double sparsity, double accuracy, double loss) {

    /** The accuracy lost against {@code baselineAccuracy}, in percentage points (negative: it rose). */
    public double dropPoints(double baselineAccuracy) { return 100 * (baselineAccuracy - accuracy); }
}
