package dev.shears.pruning.recipe;

import dev.shears.core.optim.LearningRateSchedule;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Recipe#withStartLearningRate}: every schedule type is scaled so that the run starts at the
 * given rate and keeps its shape (the rate at every position is the old one times the same factor).
 */
class StartLearningRateTest {

    private static Recipe parse(String learningRate, int epochs) {
        return RecipeParser.parse("""
                epochs: %d
                batchSize: 32
                optimizer: {type: sgd, momentum: 0.9}
                learningRate:
                %s
                """.formatted(epochs, learningRate.indent(2)), "lr.yaml", "lr");
    }

    /** At 97 positions over the run (and past its end), new rate == old rate * factor, and the start is exactly {@code lr}. */
    private static void assertScaled(Recipe before, double lr) {
        Recipe after = before.withStartLearningRate(lr);
        double f = lr / before.startLearningRate();
        assertEquals(lr, after.startLearningRate(), 0, "the rate at epoch 0");
        LearningRateSchedule a = before.learningRateSchedule(), b = after.learningRateSchedule();
        for (int i = 0; i <= 96; i++) {
            double epoch = i * (before.epochs() + 1.0) / 96;
            assertEquals(a.at(epoch) * f, b.at(epoch), 1e-9 * a.at(epoch) * f + 1e-15, "at epoch " + epoch);
        }
        // only the rates change: the timeline, the rest of the recipe and its YAML shape stay
        assertEquals(before.learningRate().size(), after.learningRate().size());
        for (int i = 0; i < before.learningRate().size(); i++) {
            assertEquals(before.learningRate().get(i).startEpoch(), after.learningRate().get(i).startEpoch());
            assertEquals(before.learningRate().get(i).endEpoch(), after.learningRate().get(i).endEpoch());
            assertEquals(before.learningRate().get(i).schedule().getClass(), after.learningRate().get(i).schedule().getClass());
        }
        assertEquals(before.pruning(), after.pruning());
        assertEquals(before.optimizer(), after.optimizer());
        assertEquals(before.epochs(), after.epochs());
        // what the checkpoint stores reads back as the same schedule
        Recipe back = RecipeParser.parse(RecipeWriter.toYaml(after), "back.yaml", "back");
        assertEquals(lr, back.startLearningRate(), 0);
        assertEquals(b.at(before.epochs() / 2.0), back.learningRateSchedule().at(before.epochs() / 2.0), 1e-12);
    }

    @Test void constant() {
        Recipe r = parse("- {type: constant, lr: 0.05}", 10);
        assertScaled(r, 0.005);
        assertEquals(new LearningRateSchedule.Constant(0.005), r.withStartLearningRate(0.005).learningRate().getFirst().schedule());
    }

    @Test void linearWarmUpThenDecay() {
        Recipe r = parse("""
                - {type: linear, start: 0.01, end: 0.1, startEpoch: 0, endEpoch: 2}
                - {type: linear, start: 0.1, end: 0.001, startEpoch: 2, endEpoch: 10}""", 10);
        assertScaled(r, 0.002);
        var s = (LearningRateSchedule.Linear) r.withStartLearningRate(0.002).learningRate().get(1).schedule();
        assertEquals(0.02, s.start(), 0); // 12 significant digits: 0.1 * 0.2 reads 0.02, not 0.020000000000000004
        assertEquals(0.0002, s.end(), 0);
    }

    @Test void step() {
        Recipe r = parse("- {type: step, initial: 0.1, stepEpochs: 3, gamma: 0.5}", 12);
        assertScaled(r, 0.03);
        var s = (LearningRateSchedule.StepDecay) r.withStartLearningRate(0.03).learningRate().getFirst().schedule();
        assertEquals(3, s.stepEpochs());
        assertEquals(0.5, s.gamma());
    }

    @Test void multistep() {
        Recipe r = parse("- {type: multistep, initial: 0.2, milestones: [4, 7.5], gamma: 0.1}", 10);
        assertScaled(r, 0.01);
        var s = (LearningRateSchedule.MultiStep) r.withStartLearningRate(0.01).learningRate().getFirst().schedule();
        assertEquals(java.util.List.of(4.0, 7.5), s.milestones());
    }

    @Test void exponentialAfterAConstantPhase() {
        Recipe r = parse("""
                - {type: constant, lr: 0.05, startEpoch: 0, endEpoch: 3}
                - {type: exponential, initial: 0.04, gamma: 0.8, startEpoch: 3, endEpoch: 9}""", 9);
        assertScaled(r, 0.5);
    }

    @Test void cosineTheGmpSeedRecipeAndAStretchedOne() {
        assertScaled(parse("- {type: cosine, initial: 0.05, minimum: 0.0005}", 20), 0.005);
        assertScaled(Recipes.builtIn("gmp-seed"), 0.005);
        assertScaled(Recipes.builtIn("gmp-tuned").withFinalSparsity(0.5).withEpochs(7), 0.001);
        assertScaled(Recipes.builtIn("dense").withEpochs(1), 0.005);
        var c = (LearningRateSchedule.Cosine) Recipes.builtIn("dense").withEpochs(1).withStartLearningRate(0.005).learningRate().getFirst().schedule();
        assertEquals(0.005, c.initial(), 0);
    }

    @Test void theSameRateIsTheSameRecipe() {
        Recipe r = Recipes.builtIn("gmp-tuned");
        assertSame(r, r.withStartLearningRate(r.startLearningRate()));
    }

    @Test void describeShowsTheRates() {
        String d = Recipes.builtIn("dense").withEpochs(1).withStartLearningRate(0.005).describe();
        assertTrue(d.contains("learning rate 0.005 at the start: cosine 0.005 -> "), d);
    }

    @Test void refusesRatesThatAreNotPositiveAndRecipesStartingAtZero() {
        Recipe r = Recipes.builtIn("dense");
        for (double bad : new double[]{0, -0.01, Double.NaN, Double.POSITIVE_INFINITY}) {
            var e = assertThrows(RecipeException.class, () -> r.withStartLearningRate(bad));
            assertTrue(e.getMessage().contains("must be a finite number > 0"), e.getMessage());
        }
        Recipe warm = parse("- {type: linear, start: 0, end: 0.1, endEpoch: 2}", 5);
        var e = assertThrows(RecipeException.class, () -> warm.withStartLearningRate(0.01));
        assertTrue(e.getMessage().contains("starts at learning rate 0") && e.getMessage().contains("warm-up"), e.getMessage());
        // a later rate that the factor scales past double range: a recipe error, not an overflow
        Recipe tiny = parse("- {type: linear, start: 1e-308, end: 1, endEpoch: 2}", 5);
        var over = assertThrows(RecipeException.class, () -> tiny.withStartLearningRate(5));
        assertTrue(over.getMessage().contains("out of range"), over.getMessage());
    }
}
