package dev.shears.pruning.recipe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The one-line summaries of one-shot (constant) modifiers, word for word: logs and recipes list print them. */
class ConstantSparsityDescribeTest {
    private static String describe(Structure s, boolean leaveEnabled) {
        return new PruningModifier.ConstantSparsity(0.625, 2, 5, Scope.LAYER, null, leaveEnabled, s).describe();
    }

    @Test void blocksAndChannelsSayWhatGoesAndInWhichOrder() {
        assertEquals("one-shot block pruning (62.5% of each layer's 4x8 blocks, smallest mean |w| first) at epoch 2 (final sparsity reached there)",
                describe(new BlockStructure(4, 8), true));
        assertEquals("one-shot channel pruning (62.5% of each layer's output channels, smallest L1 norm first) at epoch 2 (final sparsity reached there),"
                + " masks dropped at epoch 5", describe(ChannelStructure.CHANNELS, false));
    }

    @Test void unstructuredAndNmKeepTheirOwnWording() {
        assertEquals("constant sparsity 62.5%, layer scope, from epoch 2 (final sparsity reached there)", describe(null, true));
        assertEquals("one-shot 3:8 magnitude pruning (62.5%, per group of 8 inputs / input channels) at epoch 2 (final sparsity reached there)",
                describe(NmStructure.parse("3:8"), true));
    }
}
