package dev.shears.pruning.recipe;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The built-in recipes (YAML resources under {@code dev/shears/pruning/recipes/}) and loading a
 * recipe by name or file.
 */
public final class Recipes {
    /** Names of the built-in recipes. */
    private static final List<String> BUILT_IN = List.of("dense", "gmp-seed", "gmp-tuned", "demo", "gmp-2of4", "gmp-channels", "gmp-blocks");

    private Recipes() {}

    public static List<String> builtInNames() { return BUILT_IN; }

    /** A built-in recipe by name, e.g. {@code gmp-seed} or {@code demo}. */
    public static Recipe builtIn(String name) {
        if (!BUILT_IN.contains(name))
            throw new RecipeException("no built-in recipe named '" + name + "'; built-in recipes: " + BUILT_IN + " (or give a YAML file)");
        String resource = "/dev/shears/pruning/recipes/" + name + ".yaml";
        try (InputStream in = Recipes.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("built-in recipe resource " + resource + " is missing from the jar");
            return RecipeParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in recipe " + name, name);
        } catch (IOException e) {
            throw new UncheckedIOException("reading built-in recipe resource " + resource, e);
        }
    }

    /** The built-in recipe's YAML text (to show users or copy as a starting point). */
    public static String builtInText(String name) {
        builtIn(name);
        try (InputStream in = Recipes.class.getResourceAsStream("/dev/shears/pruning/recipes/" + name + ".yaml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A recipe by name or file: an existing file (or any argument ending in .yaml/.yml) is read
     * as a file, anything else must be a built-in name.
     */
    public static Recipe load(String nameOrFile) {
        Path p = Path.of(nameOrFile);
        if (Files.isRegularFile(p) || nameOrFile.endsWith(".yaml") || nameOrFile.endsWith(".yml") || nameOrFile.contains("/"))
            return RecipeParser.parse(p);
        return builtIn(nameOrFile);
    }
}
