/**
 * The epoch-level GMP loop. Typical use (what the CLI does):
 *
 * <pre>{@code
 * Recipe recipe = Recipes.load("gmp-seed");                 // or a YAML file path
 * recipe = recipe.withFinalSparsity(0.95).withEpochs(30);   // optional overrides (--sparsity, --epochs)
 * Model model = Architectures.create("lenet-300-100", shape, 10).bind(backend, seed);
 * GmpTrainer trainer = new GmpTrainer(model, split.train(), split.test(), recipe, seed)
 *         .addListener(new TrainingListener() {
 *             public void batchFinished(BatchProgress p) { ... progress bar ... }
 *             public void epochFinished(EpochMetrics m) { ... }
 *         });
 * try {
 *     TrainingHistory h = trainer.run();                    // h.epochs(), h.pruning(), h.dense()
 * } catch (NonFiniteLossException e) {
 *     e.lastGoodSnapshot().restore(model);                  // then save the checkpoint
 * }
 * }</pre>
 */
package dev.shears.pruning.train;
