package dev.shears.pruning.recipe;

import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.core.nn.layers.Dense;
import dev.shears.core.optim.LearningRateSchedule;
import dev.shears.core.tensor.Shape;
import dev.shears.pruning.schedule.SparsityCurve;
import dev.shears.pruning.schedule.SparsitySchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RecipeParserTest {

    private static final String BASE = """
            epochs: 10
            batchSize: 32
            optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 1e-4}
            learningRate:
              - {type: linear, start: 0.01, end: 0.1, startEpoch: 0, endEpoch: 1}
              - {type: cosine, initial: 0.1, minimum: 0.001, startEpoch: 1, endEpoch: 10}
            pruning:
              - type: gmp
                initSparsity: INIT
                finalSparsity: FINAL
                startEpoch: START
                endEpoch: END
                updateFrequency: FREQ
                schedule: cubic
                scope: global
            """;

    private static String recipe(String init, String fin, String start, String end, String freq) {
        return BASE.replace("INIT", init).replace("FINAL", fin).replace("START", start).replace("END", end).replace("FREQ", freq);
    }

    private static Recipe parse(String text) { return RecipeParser.parse(text, "test.yaml", "test"); }

    private static RecipeException error(String text) {
        return assertThrows(RecipeException.class, () -> parse(text));
    }

    private static Model lenet() {
        return Model.builder().input("x", Shape.of(784))
                .then(new Dense("dense_1", 784, 300, true))
                .then(new Dense("dense_2", 300, 100, true))
                .then(new Dense("dense_3", 100, 10, true))
                .build();
    }

    @Test void parsesEveryField() {
        Recipe r = parse(recipe("0.05", "0.9", "1", "8", "0.25"));
        assertEquals("test", r.name());
        assertEquals(10, r.epochs());
        assertEquals(32, r.batchSize());
        assertEquals(new OptimizerSpec.SgdSpec(0.9, true, 1e-4), r.optimizer());
        assertEquals(2, r.learningRate().size());
        assertEquals(new LearningRateSchedule.Linear(0.01, 0.1, 1), r.learningRate().get(0).schedule());
        assertEquals(new LearningRateSchedule.Cosine(0.1, 0.001, 9), r.learningRate().get(1).schedule());
        PruningModifier.GradualMagnitude g = (PruningModifier.GradualMagnitude) r.pruning().get(0);
        assertEquals(new PruningModifier.GradualMagnitude(0.05, 0.9, 1, 8, 0.25, SparsityCurve.CUBIC, Scope.GLOBAL,
                ParamSelection.ALL_PRUNABLE, true), g);
        assertEquals(8.0, r.finalSparsityEpoch().orElseThrow());
        // 100 steps an epoch: start 100, end 800, every 25 steps
        assertEquals(new SparsitySchedule(0.05, 0.9, 100, 800, 25, SparsityCurve.CUBIC), g.schedule(100));
        assertEquals(800, r.finalSparsityStep(100));
        assertTrue(r.describe().contains("final sparsity reached at epoch 8"), r.describe());
    }

    @Test void learningRateIsPiecewiseOverTheRun() {
        Recipe r = parse(recipe("0.05", "0.9", "1", "8", "0.25"));
        LearningRateSchedule lr = r.learningRateSchedule();
        assertEquals(0.01, lr.at(0), 1e-12);
        assertEquals(0.055, lr.at(0.5), 1e-12);
        assertEquals(0.1, lr.at(1), 1e-12);
        assertEquals(0.001 + 0.099 / 2, lr.at(5.5), 1e-12);
        assertEquals(0.001, lr.at(10), 1e-12);
    }

    @Test void finalBelowInitialNamesBothFields() {
        RecipeException e = error(recipe("0.5", "0.3", "1", "8", "1"));
        assertTrue(e.getMessage().contains("test.yaml: pruning[0]: finalSparsity = 0.3 is below initSparsity = 0.5"), e.getMessage());
    }

    @Test void endBeforeStart() {
        RecipeException e = error(recipe("0.05", "0.9", "5", "3", "1"));
        assertTrue(e.getMessage().contains("pruning[0]: endEpoch = 3.0 is before startEpoch = 5.0"), e.getMessage());
    }

    @Test void sparsityOutsideZeroOne() {
        RecipeException e = error(recipe("0.05", "1.0", "1", "8", "1"));
        assertTrue(e.getMessage().contains("finalSparsity = 1.0 is outside [0, 1)"), e.getMessage());
        e = error(recipe("-0.1", "0.5", "1", "8", "1"));
        assertTrue(e.getMessage().contains("initSparsity = -0.1 is outside [0, 1)"), e.getMessage());
    }

    @Test void updateFrequencyMustBePositive() {
        RecipeException e = error(recipe("0.05", "0.9", "1", "8", "0"));
        assertTrue(e.getMessage().contains("updateFrequency = 0.0 must be a finite number of epochs > 0"), e.getMessage());
    }

    @Test void pruningPastTheLastEpoch() {
        RecipeException e = error(recipe("0.05", "0.9", "1", "12", "1"));
        assertTrue(e.getMessage().contains("pruning[0].endEpoch = 12 is after the last epoch (epochs = 10)"), e.getMessage());
    }

    /** The start must be strictly before the end of training: at epochs = 10, start 10 is refused and 9.5 accepted. */
    @Test void pruningThatStartsAtTheEndOfTrainingIsRefused() {
        RecipeException e = error(recipe("0.05", "0.9", "10", "10", "1"));
        assertTrue(e.getMessage().contains("pruning[0].startEpoch = 10 is not before the end of training (epochs = 10)"), e.getMessage());
        Recipe r = parse(recipe("0.05", "0.9", "9.5", "10", "0.5"));
        assertEquals(9.5, r.pruning().getFirst().startEpoch());
    }

    @Test void unknownFieldAndBadChoiceListWhatIsAllowed() {
        RecipeException e = error(recipe("0.05", "0.9", "1", "8", "1").replace("scope: global", "scope: everywhere"));
        assertTrue(e.getMessage().contains("pruning[0].scope: 'everywhere' is not allowed; allowed: [layer, global]"), e.getMessage());
        e = error(recipe("0.05", "0.9", "1", "8", "1").replace("schedule: cubic", "schedul: cubic"));
        assertTrue(e.getMessage().contains("pruning[0].schedul: unknown field"), e.getMessage());
        e = error(recipe("0.05", "0.9", "1", "8", "1").replace("type: sgd", "type: rmsprop"));
        assertTrue(e.getMessage().contains("optimizer.type: 'rmsprop' is not allowed; allowed: [sgd, adam, adamw]"), e.getMessage());
        e = error(recipe("0.05", "0.9", "1", "8", "1").replace("batchSize: 32", "batchSize: lots"));
        assertTrue(e.getMessage().contains("batchSize: 'lots' is not a number"), e.getMessage());
    }

    @Test void overlappingLearningRateModifiers() {
        RecipeException e = error(recipe("0.05", "0.9", "1", "8", "1").replace("startEpoch: 1, endEpoch: 10}", "startEpoch: 0.5, endEpoch: 10}"));
        assertTrue(e.getMessage().contains("learningRate[1].startEpoch = 0.5 is before learningRate[0].endEpoch = 1"), e.getMessage());
    }

    @Test void invalidYamlNamesTheLine() {
        RecipeException e = error("epochs: [1, 2\nbatchSize: 3\n");
        assertTrue(e.getMessage().startsWith("test.yaml: not valid YAML (line"), e.getMessage());
    }

    @Test void paramsPatternThatMatchesNothingListsThePrunableNames() {
        Recipe r = parse(recipe("0.05", "0.9", "1", "8", "1").replace("scope: global", "scope: global\n    params: ['dense_1/kernel', 'conv.*']"));
        RecipeException e = assertThrows(RecipeException.class, () -> r.pruning().get(0).params().resolve(lenet()));
        assertTrue(e.getMessage().contains("params pattern 'conv.*' matches no prunable parameter"), e.getMessage());
        assertTrue(e.getMessage().contains("[dense_1/kernel, dense_2/kernel, dense_3/kernel]"), e.getMessage());
    }

    @Test void paramsNeverSelectBiases() {
        RecipeException e = assertThrows(RecipeException.class,
                () -> new ParamSelection(List.of("dense_1/bias")).resolve(lenet()));
        assertTrue(e.getMessage().contains("'dense_1/bias' is a BIAS parameter; only kernels are pruned"), e.getMessage());
        List<Parameter> all = new ParamSelection(List.of("dense_.*")).resolve(lenet());
        assertEquals(List.of("dense_1/kernel", "dense_2/kernel", "dense_3/kernel"), all.stream().map(Parameter::name).toList());
        assertEquals(all.stream().map(Parameter::name).toList(),
                ParamSelection.ALL_PRUNABLE.resolve(lenet()).stream().map(Parameter::name).toList());
        List<Parameter> some = new ParamSelection(List.of("dense_3/kernel", "dense_1/kernel")).resolve(lenet());
        assertEquals(List.of("dense_1/kernel", "dense_3/kernel"), some.stream().map(Parameter::name).toList());
    }

    @Test void badRegexIsReported() {
        RecipeException e = error(recipe("0.05", "0.9", "1", "8", "1").replace("scope: global", "scope: global\n    params: ['dense_[1']"));
        assertTrue(e.getMessage().contains("'dense_[1' is neither a parameter name nor a valid regular expression"), e.getMessage());
    }

    @Test void writerRoundTrips() {
        Recipe r = parse(recipe("0.05", "0.9", "1", "8", "0.25").replace("scope: global", "scope: layer\n    params: ['dense_1/kernel']\n    leaveEnabled: false")
                .replace("- {type: cosine, initial: 0.1, minimum: 0.001, startEpoch: 1, endEpoch: 10}",
                        "- {type: multistep, initial: 0.1, milestones: [4, 7], gamma: 0.1, startEpoch: 1, endEpoch: 10}"));
        assertEquals(r, parse(RecipeWriter.toYaml(r)));
        for (String name : Recipes.builtInNames()) {
            Recipe b = Recipes.builtIn(name);
            assertEquals(b, RecipeParser.parse(RecipeWriter.toYaml(b), "written", "x"), name);
        }
    }

    @Test void builtInSeedRecipeIsTheZhuGuptaSchedule() {
        Recipe r = Recipes.builtIn("gmp-seed");
        assertEquals(60, r.epochs());
        PruningModifier.GradualMagnitude g = (PruningModifier.GradualMagnitude) r.pruning().get(0);
        assertEquals(0.05, g.initSparsity());
        assertEquals(0.9, g.finalSparsity());
        assertEquals(1, g.startEpoch());
        assertEquals(35, g.endEpoch());
        assertEquals(SparsityCurve.CUBIC, g.curve());
        assertEquals(Scope.LAYER, g.scope());
        assertEquals(35.0, r.finalSparsityEpoch().orElseThrow());
        // the learning rate decays after the pruning window
        assertTrue(r.learningRateSchedule().at(59.9) < r.learningRateSchedule().at(35) / 10);
    }

    @Test void everyBuiltInLoadsAndStatesWhenTheFinalSparsityIsReached() {
        assertEquals(List.of("dense", "gmp-seed", "gmp-tuned", "demo", "gmp-2of4", "gmp-channels", "gmp-blocks"), Recipes.builtInNames());
        for (String name : Recipes.builtInNames()) {
            Recipe r = Recipes.builtIn(name);
            assertEquals(name, r.name());
            if (r.pruning().isEmpty()) {
                assertTrue(r.finalSparsityEpoch().isEmpty());
                continue;
            }
            String epoch = PruningModifier.shortNum(r.finalSparsityEpoch().orElseThrow());
            assertTrue(r.describe().contains("final sparsity reached at epoch " + epoch), name + ": " + r.describe());
        }
        assertEquals(Scope.GLOBAL, Recipes.builtIn("gmp-tuned").pruning().get(0).scope());
        assertEquals(7.0, Recipes.builtIn("demo").finalSparsityEpoch().orElseThrow());
    }

    @Test void anUpdateFrequencyLongerThanThePruningWindowIsRefused() {
        // 1 -> 5 updated every 7 epochs: one jump from 5% to 90% at epoch 5
        RecipeException e = error(recipe("0.05", "0.9", "1", "5", "7"));
        assertTrue(e.getMessage().contains("updateFrequency = 7 is longer than the pruning window (startEpoch 1 to endEpoch 5, 4 epochs)"), e.getMessage());
        assertTrue(e.getMessage().contains("give at most 4"), e.getMessage());
        // equal to the window is two updates, start and end: allowed, and still after --epochs rescales it
        Recipe r = parse(recipe("0.05", "0.9", "1", "5", "4"));
        for (int epochs : new int[]{3, 7, 11, 13, 29}) assertDoesNotThrow(() -> r.withEpochs(epochs), "--epochs " + epochs);
    }

    @Test void aMissingFieldNamesTheMisspeltOneThatIsThere() {
        // 'epoch:' and 'batchsize:' were reported only as "epochs: is missing"
        RecipeException e = error("""
                name: typo
                epoch: 10
                batchsize: 128
                optimizer: {type: sgd}
                learningRate: [{type: constant, lr: 0.05, startEpoch: 0, endEpoch: 10}]
                """);
        assertEquals("test.yaml: epochs: is missing; it is required here (this mapping has 'epoch': misspelt 'epochs'?)", e.getMessage());
        e = error("""
                epochs: 10
                batchsize: 128
                optimizer: {type: sgd}
                learningRate: [{type: constant, lr: 0.05, startEpoch: 0, endEpoch: 10}]
                """);
        assertTrue(e.getMessage().endsWith("batchSize: is missing; it is required here (this mapping has 'batchsize': misspelt 'batchSize'?)"), e.getMessage());
        e = error("""
                epochs: 10
                batchSize: 128
                optimizer: {type: sgd}
                learningRate: [{type: constant, lr: 0.05, startEpoch: 0, endEpoch: 10}]
                pruning: [{type: gmp, initSparsity: 0, finalSparsity: 0.9, startEpoc: 1, endEpoch: 5, updateFrequency: 1}]
                """);
        assertTrue(e.getMessage().contains("pruning[0].startEpoch: is missing") && e.getMessage().contains("'startEpoc'"), e.getMessage());
        // nothing alike: the plain message
        e = error("""
                batchSize: 128
                optimizer: {type: sgd}
                learningRate: [{type: constant, lr: 0.05, startEpoch: 0, endEpoch: 10}]
                """);
        assertEquals("test.yaml: epochs: is missing; it is required here", e.getMessage());
        assertTrue(RecipeParser.nearlyEqual("updateFrequncy", "updateFrequency"));
        assertFalse(RecipeParser.nearlyEqual("endEpoch", "startEpoch"));
    }

    @Test void aStretchedRecipeDescribesItsEpochsWithFewDigits() {
        // the demo squeezed to 2 epochs: epoch 7 of 12 becomes 7/6 = 1.1666666666666665
        String d = Recipes.builtIn("demo").withEpochs(2).describe();
        assertTrue(d.contains("rising to 90.0% at epoch 1.167,"), d);
        assertTrue(d.contains("final sparsity reached at epoch 1.167"), d);
        assertTrue(d.contains("at epoch 0.1667 rising"), d);
        assertFalse(d.matches("(?s).*\\.\\d{6,}.*"), "no number with 6 or more decimals: " + d);
        assertEquals("35", PruningModifier.shortNum(35.0));
        assertEquals("0.025", PruningModifier.shortNum(0.025));
        assertEquals("0.04167", PruningModifier.shortNum(1.0 / 24));
        // error messages keep the exact value the user wrote
        assertEquals("10.00001", PruningModifier.num(10.00001));
    }

    @Test void loadByNameOrFile(@TempDir Path dir) throws Exception {
        assertEquals("demo", Recipes.load("demo").name());
        Path f = dir.resolve("mine.yaml");
        Files.writeString(f, recipe("0.05", "0.9", "1", "8", "1"));
        assertEquals("mine", Recipes.load(f.toString()).name());
        RecipeException e = assertThrows(RecipeException.class, () -> Recipes.load("nope"));
        assertTrue(e.getMessage().contains("no built-in recipe named 'nope'"), e.getMessage());
        e = assertThrows(RecipeException.class, () -> Recipes.load(dir.resolve("missing.yaml").toString()));
        assertTrue(e.getMessage().contains("missing.yaml does not exist"), e.getMessage());
    }

    @Test void overridesKeepTheRecipeValid() {
        Recipe seed = Recipes.builtIn("gmp-seed");
        Recipe r95 = seed.withFinalSparsity(0.95);
        assertEquals(0.95, r95.finalSparsity());
        Recipe short6 = seed.withEpochs(6);
        assertEquals(6, short6.epochs());
        assertEquals(3.5, short6.finalSparsityEpoch().orElseThrow(), 1e-12);
        assertEquals(seed.learningRateSchedule().at(50), short6.learningRateSchedule().at(5), 1e-12);
    }
}
