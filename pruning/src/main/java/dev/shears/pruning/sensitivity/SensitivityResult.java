package dev.shears.pruning.sensitivity;

import dev.shears.pruning.ChannelLeftOut;
import dev.shears.pruning.GroupedKernels;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole sensitivity analysis: the model's accuracy as it is, then each selected parameter
 * pruned alone at each target of the plan.
 *
 * @param plan             what each layer was measured at
 * @param baselineAccuracy test accuracy of the model as given, in [0, 1]
 * @param baselineLoss     its mean test cross-entropy
 * @param samples          the test samples every evaluation scored
 * @param layers           one per selected parameter, in model order
 * @param seconds          wall time of the whole analysis, the baseline included
 * @param leftOutReasons   selected parameters not measured, in model order, each with why: with {@code channels}, the
 *                         output layers' kernels ({@link #OUTPUT_LEFT_OUT}) and the grouped (depthwise) convolutions'
 *                         ({@link #GROUPED_LEFT_OUT}) and the
 *                         tied sets channel pruning leaves out ({@link #KEPT_LEFT_OUT}, {@link #UNSELECTED_LEFT_OUT}); empty otherwise
 * @param prunedTogether   the measured parameters pruned together, each set of more than one in model order (with
 *                         channels, kernels whose channels an Add or Multiply ties); their rows share one measurement
 */
public record SensitivityResult(SensitivityPlan plan, double baselineAccuracy, double baselineLoss, int samples,
                                List<LayerSensitivity> layers, double seconds, Map<String, String> leftOutReasons,
                                List<List<String>> prunedTogether) {
    public SensitivityResult {
        layers = List.copyOf(layers);
        leftOutReasons = Collections.unmodifiableMap(new LinkedHashMap<>(leftOutReasons)); // Map.copyOf would lose the order
        prunedTogether = prunedTogether.stream().map(List::copyOf).toList();
    }

    /** A result where every parameter was pruned alone. */
    public SensitivityResult(SensitivityPlan plan, double baselineAccuracy, double baselineLoss, int samples,
                             List<LayerSensitivity> layers, double seconds, Map<String, String> leftOutReasons) {
        this(plan, baselineAccuracy, baselineLoss, samples, layers, seconds, leftOutReasons, List.of());
    }

    /** A result that left nothing out. */
    public SensitivityResult(SensitivityPlan plan, double baselineAccuracy, double baselineLoss, int samples,
                             List<LayerSensitivity> layers, double seconds) {
        this(plan, baselineAccuracy, baselineLoss, samples, layers, seconds, Map.of());
    }

    /** The selected parameters not measured, in model order ({@link #leftOutReasons} says why). */
    public List<String> leftOut() { return List.copyOf(leftOutReasons.keySet()); }

    /** Why {@link #leftOut} is not measured with channel pruning (GmpTrainer's rule too). */
    public static final String OUTPUT_LEFT_OUT = "channel pruning never removes the output layer's channels (they are the model's outputs),"
            + " so it is not measured, as a channels recipe leaves it out";

    /** Why a grouped (depthwise) convolution's kernel is not measured with channel pruning (GmpTrainer's rule too, {@link GroupedKernels}). */
    public static final String GROUPED_LEFT_OUT = "channel pruning leaves a grouped (depthwise) convolution's kernel out ("
            + GroupedKernels.REASON + "), so it is not measured, as a channels recipe leaves it out";

    /** Why a kernel of a tied set whose channels thinning could never remove is not measured with channel pruning (GmpTrainer's rule too, {@link ChannelLeftOut.Rule#KEPT}). */
    public static final String KEPT_LEFT_OUT = "channel pruning leaves this kernel out (" + ChannelLeftOut.Rule.KEPT.reason
            + "), so it is not measured, as a channels recipe leaves it out";

    /** Why a kernel of a tied set the selection holds only part of is not measured with channel pruning (GmpTrainer's rule too, {@link ChannelLeftOut.Rule#UNSELECTED}). */
    public static final String UNSELECTED_LEFT_OUT = "channel pruning leaves this kernel out (" + ChannelLeftOut.Rule.UNSELECTED.reason
            + "), so it is not measured, as a channels recipe leaves it out";

    /**
     * What a reader of the figures must keep in mind: each drop was measured with only that layer
     * pruned, and drops do not add up exactly when several layers are pruned together (they
     * interact, usually for the worse, and fine-tuning during GMP recovers part of it).
     */
    public static final String CAVEAT = "each layer was pruned alone (one-shot, by magnitude, no fine-tuning) with the others as they were;"
            + " drops do not add up exactly when layers are pruned together, and GMP's fine-tuning recovers part of them";
}
