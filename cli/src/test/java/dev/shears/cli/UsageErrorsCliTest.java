package dev.shears.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.shears.cli.CliRun.shears;
import static org.junit.jupiter.api.Assertions.*;

/** A mistyped command line gets one error line naming the option and value, and where to look; not the whole usage text. */
class UsageErrorsCliTest {
    @Test void aBadOptionValueIsOneLineAndAPointerToHelp() {
        CliRun r = shears("export", "--model", "m.onnx", "--format", "tflite", "--out", "x.onnx");
        assertEquals(2, r.code());
        String[] lines = r.err().strip().split("\n");
        assertEquals(2, lines.length, r.err());
        assertTrue(lines[0].startsWith("shears export: error: ") && lines[0].contains("--format") && lines[0].contains("tflite"), r.err());
        assertEquals("Try 'shears export --help' for the options.", lines[1]);
        assertFalse(r.err().contains("Usage:"), r.err());
        assertEquals("", r.out());
    }

    @Test void exclusiveOptionsAreNamedWithoutADoubledErrorPrefix() {
        CliRun r = shears("prune", "--model", "m.shears", "--sparsity", "0.5", "--structure", "2:4", "--out", "o");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("shears prune: error: --sparsity"), r.err());
        assertTrue(r.err().contains("mutually exclusive"), r.err());
        assertFalse(r.err().contains("Error:"), r.err());
    }

    @Test void aMisspelledOptionOrCommandGetsASuggestion() {
        CliRun r = shears("prune", "--model", "m.shears", "--sparsty", "0.5", "--out", "o");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--sparsty") && r.err().contains("--sparsity"), r.err());
        r = shears("inspekt", "--model", "m.onnx");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("inspekt") && r.err().contains("shears inspect"), r.err());
        assertTrue(r.err().contains("Try 'shears --help'"), r.err());
    }

    @Test void aYamlErrorIsReportedOnceNotAgainAsItsCause(@TempDir Path dir) throws Exception {
        Path recipe = dir.resolve("broken.yaml");
        Files.writeString(recipe, "name: bad\nepochs: 10\n  batchSize: 3\n foo: [\n");
        CliRun r = shears("recipes", recipe.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("broken.yaml: not valid YAML (line 3, column 12)"), r.err());
        assertEquals(1, r.err().split("mapping values are not allowed here", -1).length - 1, "the parser's message once: " + r.err());
        assertFalse(r.err().contains("(cause:"), r.err());
    }

    /** 2 for anything the user gave that is wrong, not only for flags: a recipe, a data folder, a model file. */
    @Test void badInputFilesExitWithTwoLikeBadFlags(@TempDir Path dir) throws Exception {
        Path recipe = Files.writeString(dir.resolve("r.yaml"), "name: r\nepochs: 0\n");
        assertEquals(2, shears("recipes", recipe.toString()).code());
        CliRun data = shears("eval", "--model", OutputPathsCliTest.LINEAR.resolve("model.onnx").toString(), "--data", dir.resolve("nope").toString(),
                "--backend", "cpu");
        assertEquals(2, data.code(), data.err());
        assertTrue(data.err().contains("no such folder"), data.err());
        Path onnx = Files.write(dir.resolve("broken.onnx"), new byte[]{8, 7, 18, 3, 'a'});
        CliRun r = shears("inspect", "--model", onnx.toString());
        assertEquals(2, r.code(), r.err());
        Path ckpt = Files.write(dir.resolve("broken.shears"), new byte[]{'P', 'K', 3, 4, 1, 2, 3});
        r = shears("inspect", "--model", ckpt.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, Shears.exitCode(new IllegalStateException("a run that failed")));
    }

    @Test void theStackTraceHintIsOnlyForErrorsWhereATraceHelps(@TempDir Path dir) throws Exception {
        CliRun r = shears("eval", "--model", "m.onnx", "--batch", "0");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), "one line for a mistake in the command line: " + r.err());
        Path onnx = Files.write(dir.resolve("broken.onnx"), new byte[]{8, 7, 18, 3, 'a'});
        r = shears("inspect", "--model", onnx.toString());
        assertTrue(r.err().contains("(run with --verbose for the stack trace)"), "a file that does not read: " + r.err());
        r = shears("inspect", "--model", onnx.toString(), "--verbose");
        assertTrue(r.err().contains("\tat dev.shears."), r.err());
    }

    /** Keras has no sparse tensors: the flag was silently ignored and a dense .h5 written. */
    @Test void sparseInitializersAreRefusedForKeras(@TempDir Path dir) {
        String model = OutputPathsCliTest.LINEAR.resolve("model.onnx").toString();
        for (String name : new String[]{"m.h5", "m.keras"}) {
            CliRun r = shears("export", "--model", model, "--format", "keras", "--out", dir.resolve(name).toString(), "--sparse-initializers");
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("--sparse-initializers applies to --format onnx only"), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(dir.resolve(name)));
        }
        CliRun onnx = shears("export", "--model", model, "--format", "onnx", "--out", dir.resolve("m.onnx").toString(), "--sparse-initializers");
        assertEquals(0, onnx.code(), onnx.err());
        assertTrue(Files.exists(dir.resolve("m.onnx")));
    }

    /** README: a wrong recipe or data folder is "said in one line naming it"; the hint made it two. */
    @Test void aRecipeOrDataMistakeIsOneLine(@TempDir Path dir) {
        CliRun r = shears("recipes", "gmp-tunde");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("no built-in recipe named 'gmp-tunde'"), r.err());
        r = shears("eval", "--model", OutputPathsCliTest.LINEAR.resolve("model.onnx").toString(), "--data", dir.resolve("nope").toString(),
                "--backend", "cpu");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("no such folder"), r.err());
        r = shears("recipes", "gmp-tunde", "--verbose");
        assertTrue(r.err().contains("\tat dev.shears."), "--verbose still prints the trace: " + r.err());
    }

    /** Plain 'shears prune' named --model and --out but not the recipe choice, which the next try then failed on. */
    @Test void missingOptionsIncludeTheRequiredChoiceOfRecipe() {
        CliRun r = shears("prune");
        assertEquals(2, r.code());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.startsWith("shears prune: error: ") && first.contains("--model") && first.contains("--out"), r.err());
        assertTrue(first.contains("one of --recipe, --sparsity or --structure"), r.err());
        r = shears("prune", "--sparsity", "0.9");
        assertTrue(r.err().contains("--model") && !r.err().contains("one of --recipe"), "a choice given is not asked for: " + r.err());
        r = shears("prune", "--model", "m.shears", "--out", "o");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--recipe") && r.err().contains("--sparsity") && r.err().contains("--structure"), r.err());
    }

    @Test void noArgumentsAtAllListTheCommands() {
        CliRun r = shears();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Usage: shears") && r.err().contains("prune") && r.err().contains("recipes"), r.err());
    }

    @Test void helpStillPrintsTheWholeUsage() {
        CliRun r = shears("export", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("Usage: shears export") && r.out().contains("--sparse-initializers"), r.out());
    }
}
