package dev.shears.cli;

import picocli.CommandLine.Option;

import java.util.List;

/** {@code --inference-batches}: the batch sizes at which a pruning run's report times dense against sparse inference. */
final class InferenceOption {
    @Option(names = "--inference-batches", split = ",", defaultValue = "1,64", paramLabel = "LIST",
            description = "After pruning, time the model dense against its planned sparse form (per layer the fastest of dense, "
                    + "CSR, Blocked-ELL, 2:4, measured) at these batch sizes on the run's backend, and check both predict the same "
                    + "(a channel-pruned model is also timed against its thinned copy); the figures go into the summary and the report. 0 skips it. "
                    + "A batch size whose forward, scaled from a smaller one timed, would take over 0.5 s is skipped, saying so; "
                    + "given alone it is timed. Default: ${DEFAULT-VALUE}.")
    List<Integer> batches;

    /** Inference timing holds one batch of inputs and every layer's outputs in memory: keep it to what serving uses. */
    static final int MAX_BATCH = 1024;

    /** The batch sizes to time; empty when the user turned it off. */
    int[] batches() {
        if (batches == null || batches.equals(List.of(0))) return new int[0];
        for (int b : batches)
            if (b < 1 || b > MAX_BATCH)
                throw new UserError("--inference-batches " + batches + ": every batch size must be between 1 and " + MAX_BATCH + " (or give 0 alone to skip)");
        return batches.stream().mapToInt(Integer::intValue).distinct().toArray();
    }
}
