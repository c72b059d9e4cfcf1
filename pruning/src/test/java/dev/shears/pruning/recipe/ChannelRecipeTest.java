package dev.shears.pruning.recipe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** {@code structure: channels} in recipes: parsing, validation, the writer round trip, the built-in recipe. */
class ChannelRecipeTest {

    private static Recipe parse(String extra) { return OneModifier.parse(extra, "ch"); }

    private static String error(String extra) { return OneModifier.error(extra, "ch"); }

    @Test void channelsParseWithTheirOwnSparsities() {
        Recipe r = parse("structure: channels\ninitSparsity: 0.1\nfinalSparsity: 0.6");
        PruningModifier.GradualMagnitude g = (PruningModifier.GradualMagnitude) r.pruning().getFirst();
        assertEquals(ChannelStructure.CHANNELS, g.structure());
        assertEquals(0.6, g.finalSparsity());
        assertEquals(0.1, g.initSparsity());
        assertEquals(Scope.LAYER, g.scope());
        assertTrue(g.describe().contains("channel pruning"), g.describe());
        assertEquals(0.37, g.effectiveTarget(0.37), "per layer it is round(s C) / C; the modifier reports the target itself");
    }

    @Test void writerRoundTripsChannels() {
        Recipe r = parse("structure: channels\ninitSparsity: 0\nfinalSparsity: 0.5\nparams: ['fc1/kernel']");
        String yaml = RecipeWriter.toYaml(r);
        assertTrue(yaml.contains("structure: channels") || yaml.contains("structure: \"channels\""), yaml);
        assertEquals(r, RecipeParser.parse(yaml, "written", "ch"));
        Recipe c = OneModifier.parseInstead("- {type: constant, structure: channels, sparsity: 0.25, startEpoch: 2}", "c");
        assertEquals(ChannelStructure.CHANNELS, c.pruning().getFirst().structure());
        assertEquals(0.25, c.pruning().getFirst().finalSparsity());
        assertEquals(c, RecipeParser.parse(RecipeWriter.toYaml(c), "written", "c"));
    }

    @Test void badCombinationsAreRefusedWithTheReason() {
        String e = error("structure: channels\ninitSparsity: 0\nfinalSparsity: 0.5\nscope: global");
        assertTrue(e.contains("scope = global") && e.contains("channels") && e.contains("scope: layer"), e);
        e = error("structure: channels\ninitSparsity: 0");
        assertTrue(e.contains("finalSparsity"), "channels have no implied sparsity: " + e);
        e = error("structure: channel\ninitSparsity: 0\nfinalSparsity: 0.5");
        assertTrue(e.contains("'channel'") && e.contains("'channels'") && e.contains("N:M") && e.contains("pruning[0].structure"), e);
        e = error("structure: channels\ninitSparsity: 0\nfinalSparsity: 1.0");
        assertTrue(e.contains("finalSparsity = 1.0"), e);
    }

    @Test void withStructureMakesARecipeChannelPrunedAndKeepsItsSparsity() {
        Recipe r = Recipes.builtIn("gmp-tuned").withFinalSparsity(0.7).withStructure(ChannelStructure.CHANNELS);
        for (PruningModifier m : r.pruning()) {
            assertEquals(ChannelStructure.CHANNELS, m.structure());
            assertEquals(0.7, m.finalSparsity());
            assertEquals(Scope.LAYER, m.scope(), "gmp-tuned is global; channels are per layer");
        }
    }

    @Test void builtInChannelRecipe() {
        Recipe r = Recipes.builtIn("gmp-channels");
        assertEquals(ChannelStructure.CHANNELS, r.pruning().getFirst().structure());
        assertEquals(0.5, r.pruning().getFirst().finalSparsity());
        assertEquals(r.withFinalSparsity(0.3).pruning().getFirst().finalSparsity(), 0.3);
    }
}
