package dev.shears.pruning.fuzz;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.shears.core.fuzz.Corruption;
import dev.shears.core.fuzz.CorruptionCampaign;
import dev.shears.core.fuzz.Corruptions;
import dev.shears.core.fuzz.JsonMutations;
import dev.shears.pruning.recipe.Recipe;
import dev.shears.pruning.recipe.RecipeException;
import dev.shears.pruning.recipe.Recipes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded corruption campaign over recipe files ({@link Recipes#load}, what {@code --recipe x.yaml}
 * calls), seeded with every built-in recipe: bytes truncated and mutated, and one YAML value at a
 * time replaced or removed. Each case parses into a valid recipe or fails with a
 * {@link RecipeException} naming the file.
 */
class RecipeCorruptionTest {
    @Test
    void damagedRecipesParseOrFailClearly(@TempDir Path dir) {
        long started = System.nanoTime();
        CorruptionCampaign c = new CorruptionCampaign(dir, ".yaml", f -> Recipes.load(f.toString()), loaded -> {
            Recipe r = (Recipe) loaded;
            assertTrue(r.epochs() >= 1 && r.batchSize() >= 1, "epochs " + r.epochs() + ", batch size " + r.batchSize());
        }, Duration.ofSeconds(3), List.of(RecipeException.class));
        long seed = 500;
        YAMLMapper yaml = new YAMLMapper();
        for (String name : Recipes.builtInNames()) {
            byte[] text = Recipes.builtInText(name).getBytes(StandardCharsets.UTF_8);
            List<Corruption> cases = new ArrayList<>(Corruptions.truncations(text, seed, 20, 1, 8));
            cases.addAll(Corruptions.mutations(text, seed + 1, 30));
            cases.addAll(JsonMutations.mutations(text, yaml, seed + 2, 50));
            c.run(name, cases);
            seed += 10;
        }
        System.out.println("Recipe campaign: " + c.summary() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        c.assertClean();
    }
}
