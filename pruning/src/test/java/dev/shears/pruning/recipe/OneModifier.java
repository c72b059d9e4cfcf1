package dev.shears.pruning.recipe;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A 10-epoch recipe with one {@code gmp} modifier (start 1, end 6, every half epoch) whose other
 * fields a test writes: what the structure tests (N:M, channels, blocks) parse and refuse.
 */
final class OneModifier {
    private OneModifier() {}

    private static final String BASE = """
            epochs: 10
            batchSize: 32
            optimizer: {type: sgd, momentum: 0.9}
            learningRate:
              - {type: constant, lr: 0.05}
            pruning:
              - type: gmp
                EXTRA
                startEpoch: 1
                endEpoch: 6
                updateFrequency: 0.5
            """;

    /** The recipe with {@code extra} (YAML lines of the modifier) in it, read as {@code name}.yaml. */
    static Recipe parse(String extra, String name) {
        return RecipeParser.parse(BASE.replace("EXTRA", extra.replace("\n", "\n    ")), name + ".yaml", name);
    }

    /** The recipe with its gmp modifier replaced by {@code modifier} (one YAML flow mapping, e.g. a constant one). */
    static Recipe parseInstead(String modifier, String name) {
        return RecipeParser.parse(BASE.replace("- type: gmp\n    EXTRA\n    startEpoch: 1\n    endEpoch: 6\n    updateFrequency: 0.5", modifier),
                name + ".yaml", name);
    }

    /** The message of the {@link RecipeException} parsing it must give. */
    static String error(String extra, String name) {
        return assertThrows(RecipeException.class, () -> parse(extra, name)).getMessage();
    }
}
