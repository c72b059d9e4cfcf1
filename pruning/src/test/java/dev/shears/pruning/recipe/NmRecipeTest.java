package dev.shears.pruning.recipe;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** N:M structure in recipes: parsing, validation, the writer round trip and the per-group keep schedule. */
class NmRecipeTest {

    private static Recipe parse(String extra) { return OneModifier.parse(extra, "nm"); }

    private static String error(String extra) { return OneModifier.error(extra, "nm"); }

    @Test void structureDefaultsTheSparsitiesAndScope() {
        PruningModifier.GradualMagnitude g = (PruningModifier.GradualMagnitude) parse("structure: \"2:4\"").pruning().get(0);
        assertEquals(new NmStructure(2, 4), g.structure());
        assertEquals(0.5, g.finalSparsity());
        assertEquals(0.0, g.initSparsity());
        assertEquals(Scope.LAYER, g.scope());
        assertEquals(6.0, g.finalSparsityEpoch());
        assertTrue(g.describe().contains("2:4"), g.describe());
        assertTrue(g.describe().contains("final sparsity reached at epoch 6"), g.describe());
        // 1:4 means 75%, 3:8 means 62.5%; a matching explicit finalSparsity is accepted
        assertEquals(0.75, parse("structure: '1:4'").pruning().get(0).finalSparsity());
        assertEquals(0.625, parse("structure: \"3:8\"\nfinalSparsity: 0.625\ninitSparsity: 0.1").pruning().get(0).finalSparsity());
        assertEquals(new NmStructure(15, 16), parse("structure: \"15:16\"").pruning().get(0).structure());
    }

    @Test void aConflictingFinalSparsityNamesBothValues() {
        String e = error("structure: \"2:4\"\nfinalSparsity: 0.9\ninitSparsity: 0.05");
        assertTrue(e.contains("nm.yaml"), e);
        assertTrue(e.contains("finalSparsity = 0.9"), e);
        assertTrue(e.contains("2:4") && e.contains("0.5"), e);
    }

    @Test void outOfRangeOrMalformedStructuresAreRejectedNamingTheValue() {
        for (String bad : List.of("4:2", "2:2", "0:4", "2:17", "16:17")) {
            String e = error("structure: \"" + bad + "\"");
            assertTrue(e.contains("'" + bad + "'") && e.contains("1 <= N < M <= 16"), bad + ": " + e);
            assertTrue(e.contains("pruning[0].structure"), e);
        }
        for (String bad : List.of("2-4", "two:four", "2:4:8", "")) {
            String e = error("structure: \"" + bad + "\"");
            assertTrue(e.contains("'" + bad + "'") && e.contains("N:M"), bad + ": " + e);
        }
        // this parser reads an unquoted 2:4 as text (no YAML 1.1 base-60 numbers); a plain number is no pattern
        assertEquals(NmStructure.TWO_FOUR, parse("structure: 2:4").pruning().get(0).structure());
        String e = error("structure: 24");
        assertTrue(e.contains("'24'") && e.contains("N:M"), e);
    }

    @Test void globalScopeIsRejectedWithAStructure() {
        String e = error("structure: \"2:4\"\nscope: global");
        assertTrue(e.contains("scope = global") && e.contains("2:4") && e.contains("scope: layer"), e);
    }

    @Test void oneShotConstantWithAStructure() {
        Recipe r = RecipeParser.parse("""
                epochs: 3
                batchSize: 8
                optimizer: {type: sgd}
                learningRate: [{type: constant, lr: 0.01}]
                pruning:
                  - {type: constant, structure: "2:4", startEpoch: 1}
                """, "c.yaml", "c");
        PruningModifier.ConstantSparsity c = (PruningModifier.ConstantSparsity) r.pruning().get(0);
        assertEquals(0.5, c.sparsity());
        assertEquals(NmStructure.TWO_FOUR, c.structure());
        assertEquals(r, RecipeParser.parse(RecipeWriter.toYaml(r), "w", "x"));
        assertThrows(RecipeException.class, () -> RecipeParser.parse(RecipeWriter.toYaml(r).replace("sparsity: 0.5", "sparsity: 0.6"), "w", "x"));
    }

    @Test void writerRoundTripsTheStructure() {
        Recipe r = parse("structure: \"3:8\"\ninitSparsity: 0.1\nparams: ['dense_1/kernel']");
        String yaml = RecipeWriter.toYaml(r);
        assertTrue(yaml.contains("structure: 3:8") || yaml.contains("structure: \"3:8\"") || yaml.contains("structure: '3:8'"), yaml);
        assertEquals(r, RecipeParser.parse(yaml, "written", "nm"));
    }

    @Test void keepPerGroupFollowsTheCurveRoundedUpAndClampedToN() {
        NmStructure s = NmStructure.TWO_FOUR;
        assertEquals(4, s.keepPerGroup(0));
        assertEquals(4, s.keepPerGroup(0.24));
        assertEquals(3, s.keepPerGroup(0.25)); // exactly a level: not rounded up by noise
        assertEquals(3, s.keepPerGroup(0.49));
        assertEquals(2, s.keepPerGroup(0.5));
        assertEquals(2, s.keepPerGroup(0.9)); // never below N
        assertEquals(0.25, s.effectiveSparsity(0.3));
        NmStructure s16 = new NmStructure(1, 16);
        assertEquals(16, s16.keepPerGroup(0.05));
        assertEquals(15, s16.keepPerGroup(0.0625));
        assertEquals(1, s16.keepPerGroup(15.0 / 16));
        // over a whole GMP window the keep count only falls and ends at N exactly at the end step
        PruningModifier m = parse("structure: \"2:8\"").pruning().get(0);
        var sched = m.schedule(10);
        int prev = 8;
        for (long t = 0; t <= sched.endStep(); t++) {
            if (!sched.isUpdateStep(t)) continue;
            int keep = ((NmStructure) m.structure()).keepPerGroup(sched.formula(t));
            assertTrue(keep <= prev, "keep rose at step " + t);
            prev = keep;
        }
        assertEquals(2, prev);
        assertTrue(((NmStructure) m.structure()).keepPerGroup(sched.formula(sched.endStep() - 1)) > 2 || sched.updateEvery() > 1);
    }

    @Test void recipeTransformsKeepOrImposeTheStructure() {
        Recipe r = parse("structure: \"2:4\"");
        assertEquals(NmStructure.TWO_FOUR, r.withEpochs(20).pruning().get(0).structure());
        assertEquals(12.0, r.withEpochs(20).pruning().get(0).endEpoch());
        // a different final sparsity cannot coexist with 2:4
        RecipeException e = assertThrows(RecipeException.class, () -> r.withFinalSparsity(0.9));
        assertTrue(e.getMessage().contains("0.9") && e.getMessage().contains("2:4"), e.getMessage());
        // imposing a structure on gmp-tuned (global scope, 90%) makes it per layer at 1 - N/M
        Recipe t = Recipes.builtIn("gmp-tuned").withStructure(new NmStructure(1, 4));
        PruningModifier g = t.pruning().get(0);
        assertEquals(0.75, g.finalSparsity());
        assertEquals(Scope.LAYER, g.scope());
        assertEquals(new NmStructure(1, 4), g.structure());
        assertThrows(RecipeException.class, () -> Recipes.builtIn("dense").withStructure(NmStructure.TWO_FOUR));
    }

    @Test void builtInTwoOfFourRecipe() {
        Recipe r = Recipes.builtIn("gmp-2of4");
        PruningModifier.GradualMagnitude g = (PruningModifier.GradualMagnitude) r.pruning().get(0);
        assertEquals(NmStructure.TWO_FOUR, g.structure());
        assertEquals(0.5, r.finalSparsity());
        assertEquals(10.0, r.finalSparsityEpoch().orElseThrow());
        assertTrue(r.learningRateSchedule().at(29.9) < r.learningRateSchedule().at(10) / 10, "the LR decays after the window");
    }
}
