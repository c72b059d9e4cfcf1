package dev.shears.pruning.recipe;

import dev.shears.pruning.schedule.SparsityCurve;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The full text {@link PruningModifier.GradualMagnitude#describe} prints for blocks, channels and unstructured GMP. */
class GradualDescribeTest {
    private static PruningModifier.GradualMagnitude gmp(SparsityCurve curve, Scope scope, boolean leaveEnabled, Structure structure) {
        return new PruningModifier.GradualMagnitude(0.1, 0.5, 0, 2, 0.5, curve, scope, null, leaveEnabled, structure);
    }

    @Test void blocks() {
        assertEquals("gradual block pruning (whole 8x8 blocks of each layer's GEMM matrix, smallest mean |w| first), cubic: 10.0% of each layer's blocks"
                        + " at epoch 0 rising to 50.0% at epoch 2, updated every 0.5 epochs; final sparsity reached at epoch 2 (masks dropped there)",
                gmp(SparsityCurve.CUBIC, Scope.LAYER, false, new BlockStructure(8, 8)).describe());
    }

    @Test void channels() {
        assertEquals("gradual channel pruning (whole output channels, smallest L1 norm first), cubic: 10.0% of each layer's channels at epoch 0"
                        + " rising to 50.0% at epoch 2, updated every 0.5 epochs; final sparsity reached at epoch 2",
                gmp(SparsityCurve.CUBIC, Scope.LAYER, true, ChannelStructure.CHANNELS).describe());
    }

    @Test void blocksKeptAndChannelsDropped() {
        // the other two wordings of the unit sentence: a block run whose masks stay, a channel run whose masks are dropped
        assertEquals("gradual block pruning (whole 4x16 blocks of each layer's GEMM matrix, smallest mean |w| first), linear: 10.0% of each layer's blocks"
                        + " at epoch 0 rising to 50.0% at epoch 2, updated every 0.5 epochs; final sparsity reached at epoch 2",
                gmp(SparsityCurve.LINEAR, Scope.LAYER, true, new BlockStructure(4, 16)).describe());
        assertEquals("gradual channel pruning (whole output channels, smallest L1 norm first), cubic: 10.0% of each layer's channels at epoch 0"
                        + " rising to 50.0% at epoch 2, updated every 0.5 epochs; final sparsity reached at epoch 2 (masks dropped there)",
                gmp(SparsityCurve.CUBIC, Scope.LAYER, false, ChannelStructure.CHANNELS).describe());
    }

    @Test void unstructured() {
        assertEquals("gradual magnitude pruning, global scope, linear: 10.0% at epoch 0 rising to 50.0% at epoch 2, updated every 0.5 epochs;"
                        + " final sparsity reached at epoch 2",
                gmp(SparsityCurve.LINEAR, Scope.GLOBAL, true, null).describe());
    }
}
