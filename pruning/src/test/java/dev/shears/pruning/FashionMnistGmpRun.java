package dev.shears.pruning;

import dev.shears.core.backend.Backend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.data.Split;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Model;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeParser;
import dev.shears.pruning.train.GmpTrainer;
import dev.shears.pruning.train.PruningEvent;
import dev.shears.pruning.train.TrainingListener;

import java.util.ArrayList;
import java.util.List;

/**
 * A short structured GMP run end to end, as the channel and block pruning tests make it:
 * LeNet-300-100 (bound with seed 3) trained 3 epochs, batch 50, SGD with Nesterov momentum at
 * lr 0.05, on the first 600 bundled Fashion-MNIST training samples, with one pruning modifier.
 *
 * @param model  the trained, pruned model
 * @param test   the first 200 bundled Fashion-MNIST test samples the run evaluated on
 * @param events every mask update, in order
 */
record FashionMnistGmpRun(Model model, Dataset test, List<PruningEvent> events) {

    /**
     * Runs it.
     *
     * @param modifier the recipe's one pruning item, a YAML flow mapping such as
     *                 {@code {type: gmp, structure: channels, ...}}
     */
    static FashionMnistGmpRun of(Backend be, String modifier, String recipeName) {
        Split data = DataSources.bundledFashionMnist();
        Dataset train = data.train().head(600), test = data.test().head(200);
        Model model = Architectures.create("lenet-300-100", train.sampleShape(), 10).bind(be, 3);
        Recipe r = RecipeParser.parse("""
                epochs: 3
                batchSize: 50
                optimizer: {type: sgd, momentum: 0.9, nesterov: true}
                learningRate: [{type: constant, lr: 0.05}]
                pruning:
                  - %s
                """.formatted(modifier), recipeName + " test recipe", recipeName);
        GmpTrainer trainer = new GmpTrainer(model, train, test, r, 3);
        List<PruningEvent> events = new ArrayList<>();
        trainer.addListener(new TrainingListener() {
            @Override public void masksUpdated(PruningEvent e) { events.add(e); }
        });
        trainer.run();
        return new FashionMnistGmpRun(model, test, events);
    }
}
