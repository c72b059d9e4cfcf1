package dev.shears.pruning.recipe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The recipe's {@code distillation:} block: defaults, round trip through RecipeWriter, refusals naming field and value, describe. */
class DistillationRecipeTest {
    private static Recipe parse(String block) { return WithBlock.parse(block, "kd"); }

    private static String refused(String block) { return WithBlock.refused(block, "kd"); }

    @Test
    void anEmptyBlockTakesTheDefaultsAndNoBlockMeansNone() {
        assertNull(parse("").distillation());
        Distillation d = parse("distillation: {}\n").distillation();
        assertEquals(Distillation.DEFAULTS, d);
        assertEquals(0.5, d.weight());
        assertEquals(2.0, d.temperature());
        assertInstanceOf(Distillation.Teacher.Start.class, d.teacher());
    }

    @Test
    void theBlockRoundTripsThroughTheWriter() {
        for (String block : new String[] {
                "distillation: {weight: 0.7, temperature: 4, teacher: start}\n",
                "distillation:\n  weight: 1\n  temperature: 1.5\n  teacher: /models/dense teacher.shears\n"}) {
            Recipe r = parse(block);
            String yaml = RecipeWriter.toYaml(r);
            Recipe back = RecipeParser.parse(yaml, "written", "x");
            assertEquals(r, back, yaml);
            assertEquals(RecipeWriter.toYaml(back), yaml);
        }
        Recipe file = parse("distillation: {teacher: dense/model.shears}\n");
        assertEquals(new Distillation.Teacher.ModelFile("dense/model.shears"), file.distillation().teacher());
        // the other with* keep the block
        assertEquals(file.distillation(), file.withEpochs(20).withFinalSparsity(0.8).withStartLearningRate(0.1).distillation());
    }

    @Test
    void badValuesAreRefusedNamingTheFieldAndValue() {
        String e = refused("distillation: {weight: 0}\n");
        assertTrue(e.startsWith("kd.yaml: distillation.weight: 0 is not in (0, 1]"), e);
        e = refused("distillation: {weight: 1.5}\n");
        assertTrue(e.contains("distillation.weight: 1.5 is not in (0, 1]"), e);
        e = refused("distillation: {temperature: -2}\n");
        assertTrue(e.contains("distillation.temperature: -2 is not a finite number >= 0.05"), e);
        e = refused("distillation: {temperature: 0.001}\n");
        assertTrue(e.contains("distillation.temperature: 0.001 is not a finite number >= 0.05"), e);
        e = refused("distillation: {temperature: hot}\n");
        assertTrue(e.contains("distillation.temperature: 'hot' is not a number"), e);
        e = refused("distillation: {wieght: 0.5}\n");
        assertTrue(e.contains("distillation.wieght: unknown field; allowed here: [weight, temperature, teacher]"), e);
        e = refused("distillation: {teacher: ''}\n");
        assertTrue(e.contains("distillation.teacher: is empty"), e);
        e = refused("distillation: 0.5\n");
        assertTrue(e.contains("distillation: expected a mapping"), e);
        RecipeException r = assertThrows(RecipeException.class, () -> new Distillation(0, 2, new Distillation.Teacher.Start()));
        assertTrue(r.getMessage().startsWith("distillation.weight: 0 is not in (0, 1]"), r.getMessage());
    }

    @Test
    void describeSaysItAndTheBuiltInsHaveNone() {
        String d = parse("distillation: {weight: 0.7, temperature: 4}\n").describe();
        assertTrue(d.contains("knowledge distillation: weight 0.7, temperature 4, teacher the model the run starts from"), d);
        for (String name : Recipes.builtInNames()) assertNull(Recipes.builtIn(name).distillation(), name);
    }
}
