package dev.shears.pruning.recipe;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A 10-epoch GMP recipe (to 90%, epochs 1 to 5) with one top-level block a test appends, e.g.
 * {@code augmentation:} or {@code distillation:}: what the tests of those blocks parse and refuse.
 */
final class WithBlock {
    private WithBlock() {}

    private static final String BASE = """
            epochs: 10
            batchSize: 64
            optimizer: {type: sgd}
            learningRate: [{type: constant, lr: 0.01}]
            pruning:
              - {type: gmp, initSparsity: 0, finalSparsity: 0.9, startEpoch: 1, endEpoch: 5, updateFrequency: 1}
            """;

    /** The recipe with {@code block} (YAML lines, may be empty) appended, read as {@code name}.yaml. */
    static Recipe parse(String block, String name) {
        return RecipeParser.parse(BASE + block, name + ".yaml", name);
    }

    /** The message of the {@link RecipeException} parsing it must give. */
    static String refused(String block, String name) {
        return assertThrows(RecipeException.class, () -> parse(block, name)).getMessage();
    }
}
