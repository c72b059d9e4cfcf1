package dev.shears.pruning.recipe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** {@code structure: "block:RxC"} in recipes: parsing, validation, the writer round trip, the built-in recipe. */
class BlockRecipeTest {

    private static Recipe parse(String extra) { return OneModifier.parse(extra, "blk"); }

    private static String error(String extra) { return OneModifier.error(extra, "blk"); }

    @Test void blockShapesParse() {
        assertEquals(new BlockStructure(4, 4), Structure.parse("block:4x4"));
        assertEquals(new BlockStructure(16, 16), Structure.parse(" block : 16X16 "));
        assertEquals(new BlockStructure(1, 8), Structure.parse("block:1x8"));
        assertEquals(new BlockStructure(64, 2), Structure.parse("block:64x2"));
        assertEquals("block:1x8", Structure.parse("block:1x8").recipeName());
        assertEquals(8, new BlockStructure(8, 32).blockedEllBlock());
        assertEquals(1, new BlockStructure(1, 8).blockedEllBlock());
    }

    @Test void blocksParseWithTheirOwnSparsities() {
        Recipe r = parse("structure: \"block:8x8\"\ninitSparsity: 0.1\nfinalSparsity: 0.9");
        PruningModifier.GradualMagnitude g = (PruningModifier.GradualMagnitude) r.pruning().getFirst();
        assertEquals(new BlockStructure(8, 8), g.structure());
        assertEquals(0.9, g.finalSparsity());
        assertEquals(0.1, g.initSparsity());
        assertEquals(Scope.LAYER, g.scope());
        assertTrue(g.describe().contains("block pruning") && g.describe().contains("8x8"), g.describe());
        assertEquals(0.37, g.effectiveTarget(0.37));
    }

    @Test void writerRoundTripsBlocks() {
        Recipe r = parse("structure: block:16x4\ninitSparsity: 0\nfinalSparsity: 0.75\nparams: ['fc1/kernel']");
        String yaml = RecipeWriter.toYaml(r);
        assertTrue(yaml.contains("block:16x4"), yaml);
        assertEquals(r, RecipeParser.parse(yaml, "written", "blk"));
        Recipe c = OneModifier.parseInstead("- {type: constant, structure: \"block:2x2\", sparsity: 0.5, startEpoch: 2}", "c");
        assertEquals(new BlockStructure(2, 2), c.pruning().getFirst().structure());
        assertTrue(c.pruning().getFirst().describe().contains("one-shot block pruning"), c.pruning().getFirst().describe());
        assertEquals(c, RecipeParser.parse(RecipeWriter.toYaml(c), "written", "c"));
    }

    @Test void badShapesAndCombinationsAreRefusedNamingTheValue() {
        for (String bad : new String[]{"block:3x4", "block:4x0", "block:128x4", "block:1x1", "block:4", "block:4x4x4", "block:ax4", "block:99999999999x4"}) {
            String e = error("structure: \"" + bad + "\"\ninitSparsity: 0\nfinalSparsity: 0.5");
            assertTrue(e.contains("pruning[0].structure") && e.contains("block") && e.contains("powers of two") && e.contains("64"), bad + ": " + e);
        }
        String e = error("structure: \"block:4x6\"\ninitSparsity: 0\nfinalSparsity: 0.5");
        assertTrue(e.contains("'block:4x6'"), e);
        e = error("structure: \"block:4x4\"\ninitSparsity: 0\nfinalSparsity: 0.5\nscope: global");
        assertTrue(e.contains("scope = global") && e.contains("block:4x4") && e.contains("scope: layer"), e);
        e = error("structure: \"block:4x4\"\ninitSparsity: 0");
        assertTrue(e.contains("finalSparsity"), "blocks have no implied sparsity: " + e);
        e = error("structure: blocks\ninitSparsity: 0\nfinalSparsity: 0.5");
        assertTrue(e.contains("'blocks'") && e.contains("block:RxC"), e);
        e = error("structure: chanels\ninitSparsity: 0\nfinalSparsity: 0.5");
        assertTrue(e.contains("block:4x4") && e.contains("channels") && e.contains("N:M"), "the list of what is allowed names blocks too: " + e);
    }

    @Test void withStructureMakesARecipeBlockPrunedAndKeepsItsSparsity() {
        Recipe r = Recipes.builtIn("gmp-tuned").withFinalSparsity(0.7).withStructure(new BlockStructure(16, 16));
        for (PruningModifier m : r.pruning()) {
            assertEquals(new BlockStructure(16, 16), m.structure());
            assertEquals(0.7, m.finalSparsity());
            assertEquals(Scope.LAYER, m.scope(), "gmp-tuned is global; blocks are per layer");
        }
    }

    @Test void builtInBlockRecipe() {
        Recipe r = Recipes.builtIn("gmp-blocks");
        assertEquals(new BlockStructure(4, 4), r.pruning().getFirst().structure());
        assertEquals(0.8, r.pruning().getFirst().finalSparsity());
        Recipe b = r.withStructure(new BlockStructure(16, 16)).withFinalSparsity(0.9);
        assertEquals(new BlockStructure(16, 16), b.pruning().getFirst().structure());
        assertEquals(0.9, b.pruning().getFirst().finalSparsity());
    }
}
