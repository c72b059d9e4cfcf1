package dev.shears.cli.report;

import java.util.List;

/**
 * What a train/prune/demo run did: written as report.json and rendered as report.html.
 *
 * @param before       test metrics of the model before pruning (null for plain training)
 * @param after        test metrics of the final model
 * @param finalSparsityEpoch the epoch at which the recipe reaches its final sparsity (NaN if none)
 * @param inference    dense against planned-sparse inference of the final model (null when not measured)
 * @param thinning     the final model thinned (its all-zero output channels removed) against it: present
 *                     when thinning removes at least one channel, or the recipe prunes channels; else null
 * @param warnings     what the run warned of on stderr (an epoch that ended at chance), in order; empty when none
 * @param distillation the knowledge distillation the run used, or null when it trained on the labels alone
 * @param augmentation the augmentation of the training images, or null when it trained on them as they are
 * @param classNames   what each of the model's outputs means, output i named {@code classNames.get(i)} (the sorted
 *                     class folder names of an image-folder data set); empty when the model has none
 * @param perClass     test accuracy of each class the test set holds, before and after, by index (counted in the same
 *                     test passes as {@code before} and {@code after}); empty when neither side was counted
 * @param perClassNote why {@code perClass} lacks a side (or is empty), or null when it has what the run measured
 */
public record RunReport(String command, String shearsVersion, String date, String backend,
                        String model, String data, int trainSamples, int testSamples,
                        String recipe, long seed,
                        Metrics before, Metrics after,
                        double sparsity, double targetSparsity, double finalSparsityEpoch,
                        long parameters, long prunableParameters, long nonZeroPrunable,
                        List<LayerRow> layers, List<EpochRow> epochs, List<MaskUpdateRow> maskUpdates,
                        double seconds, String checkpoint, String stopReason, Inference inference, Thinning thinning,
                        List<String> warnings, Distillation distillation, Augmentation augmentation,
                        List<String> classNames, List<ClassRow> perClass, String perClassNote) {

    public RunReport {
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
        classNames = classNames == null ? List.of() : List.copyOf(classNames);
        perClass = perClass == null ? List.of() : List.copyOf(perClass);
    }

    /**
     * One class's test figures before and after the run.
     *
     * @param index  the model's output index of the class
     * @param name   its name, or null where the model has no class names
     * @param before its figures in the test pass before the run, or null where not counted (plain training, whose
     *               start is random weights; a run resumed from a checkpoint written before Shears kept them)
     * @param after  its figures in the final test pass, or null where not counted (see {@link RunReport#perClassNote})
     * @param change after's accuracy less before's, as a fraction (-0.031: 3.1 points lost); NaN (null in JSON) without both
     */
    public record ClassRow(int index, String name, ClassFigures before, ClassFigures after, double change) {}

    /** A class's samples in the test set, those predicted right, and their ratio. */
    public record ClassFigures(long correct, long total, double accuracy) {}

    /**
     * Knowledge distillation's settings and what it measured.
     *
     * @param weight       a, the soft-target share of the loss
     * @param temperature  T
     * @param teacher      "start" (the model the run started from) or the teacher's model file as given
     * @param teacherCopy  the teacher as the run keeps it for --resume (teacher.shears in the output folder)
     * @param epochLoss    per epoch (1, 2, ...), the mean soft-target term T^2 KL(teacher || student) over its samples
     */
    public record Distillation(double weight, double temperature, String teacher, String teacherCopy, List<Double> epochLoss) {
        public Distillation { epochLoss = List.copyOf(epochLoss); }
    }

    /**
     * The recipe's augmentation of the training images.
     *
     * @param flip     random horizontal flip, p = 0.5
     * @param crop     P, the zero padding on each side before the random H x W crop (0: no crop)
     * @param describe the line the run's log and the HTML report show
     */
    public record Augmentation(boolean flip, int crop, String describe) {}

    /** The same report with its distillation section. */
    public RunReport withDistillation(Distillation d) {
        return with(inference, thinning, warnings, d);
    }

    /** The same report with the inference comparison added. */
    public RunReport withInference(Inference i) {
        return with(i, thinning, warnings, distillation);
    }

    /** The same report with {@code w} as its warnings. */
    public RunReport withWarnings(List<String> w) {
        return with(inference, thinning, w, distillation);
    }

    /** The same report with the thinning section added. */
    public RunReport withThinning(Thinning t) {
        return with(inference, t, warnings, distillation);
    }

    /** This report with its four later sections as given (the withers' one copy of the field list). */
    private RunReport with(Inference i, Thinning t, List<String> w, Distillation d) {
        return new RunReport(command, shearsVersion, date, backend, model, data, trainSamples, testSamples, recipe, seed, before, after,
                sparsity, targetSparsity, finalSparsityEpoch, parameters, prunableParameters, nonZeroPrunable, layers, epochs,
                maskUpdates, seconds, checkpoint, stopReason, i, t, w, d, augmentation, classNames, perClass, perClassNote);
    }

    /**
     * The final model thinned ({@code ChannelThinning}: its all-zero output channels removed, a
     * smaller dense model) against the final (masked) model, on the backend the run trained on.
     *
     * @param parametersBefore stored weights of the final model
     * @param parametersAfter  stored weights of the thinned model ({@code export --thin} writes it)
     * @param channelsRemoved  output channels removed over all layers
     * @param layers           one row per layer that lost channels, in the model's order
     * @param warnings         layers whose all-zero channels had to stay, and why
     * @param backend          "cpu" or "cuda": where both models were timed (the thinned one is built on the run's backend)
     * @param device           that backend's description of its device
     * @param batches          masked against thinned latency per batch size (empty when not timed)
     * @param note             why it was not (fully) measured, or null
     */
    public record Thinning(long parametersBefore, long parametersAfter, int channelsRemoved, List<ThinnedLayer> layers,
                           List<String> warnings, String backend, String device, List<ThinningBatch> batches, String note) {}

    /** One layer's output channels before and after thinning. */
    public record ThinnedLayer(String layer, String type, int channelsBefore, int channelsAfter) {}

    /**
     * Whole-model latency at one batch size (each model's best round of medians, timed as the
     * sparse comparison times), and how many of the first test images both classify alike.
     */
    public record ThinningBatch(int batch, double prunedMs, double thinnedMs, double speedup,
                                int samples, int samePredictions, double maxAbsDifference) {}

    /**
     * Dense against sparse inference of the final model, on the backend the run trained on (on the
     * CPU, a CPU copy, when that backend has no sparse path).
     *
     * @param backend "cpu" (the model's own forward against the CPU sparse model) or "cuda" (cuBLAS
     *                against cuSPARSE, timed with CUDA events)
     * @param device  where it was timed (the backend's description of its device)
     * @param batches one row per batch size (empty when it could not be measured)
     * @param note    why it was not measured, or null
     */
    public record Inference(String backend, String device, List<InferenceBatch> batches, String note) {}

    /**
     * Whole-model latency at one batch size (medians), weight storage of the planned layers, and
     * how many of the first test images both paths classify alike. {@code planKept} is false when
     * a timing found the per-layer plan no faster than dense, so every layer stayed dense:
     * {@code planNotKeptReason} then says which (the whole-model check, or the comparison timing
     * these very figures, see {@code InferenceComparison.Outcome}) in the words the summary and
     * report.html print, and {@code slowerPlanMs} is the plan's time in the comparison when that
     * was it (null in report.json otherwise). A kept plan is never slower than dense here.
     */
    public record InferenceBatch(int batch, double denseMs, double sparseMs, double speedup,
                                 long denseWeightBytes, long plannedWeightBytes,
                                 int samples, int samePredictions, double maxAbsDifference, List<InferenceLayer> layers,
                                 boolean planKept, String planNotKeptReason, double slowerPlanMs) {
        public InferenceBatch {
            if (planKept != (planNotKeptReason == null))
                throw new IllegalArgumentException("batch " + batch + ": a reason is given exactly when the plan was not kept (planKept "
                        + planKept + ", reason " + planNotKeptReason + ")");
        }
    }

    /** The planner's choice for one Dense/Conv2D layer: A is rows x cols, times are medians of its product. */
    public record InferenceLayer(String layer, String type, int rows, int cols, double sparsity, String format,
                                 double denseMs, double chosenMs, double speedup) {}

    public record Metrics(double accuracy, double loss, int samples) {}

    /** One row of the per-layer table; sparsity NaN for layers without prunable weights. */
    public record LayerRow(String name, String type, long parameters, long prunable, double sparsity) {}

    /** One mask update: where in the run (fractional epoch), the schedule's target and what was reached. */
    public record MaskUpdateRow(double epoch, long step, double target, double achieved) {}

    /** One epoch of the history. */
    public record EpochRow(int epoch, double lr, double trainLoss, double trainAccuracy,
                           double testLoss, double testAccuracy, double targetSparsity, double sparsity, double seconds) {}
}
