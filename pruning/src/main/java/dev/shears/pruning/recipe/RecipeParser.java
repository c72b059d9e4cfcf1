package dev.shears.pruning.recipe;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.shears.core.optim.LearningRateSchedule;
import dev.shears.core.util.AtomicFiles;
import dev.shears.pruning.schedule.SparsityCurve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a YAML recipe into a validated {@link Recipe}. The YAML is read as a tree and every field
 * checked by hand, so an error names the recipe, the field path, the value and what is allowed,
 * and unknown fields (typos) are rejected with the list of known ones. The format:
 *
 * <pre>
 * name: gmp-seed                 # optional, defaults to the file name
 * description: ...               # optional
 * epochs: 60
 * batchSize: 128
 * optimizer: {type: sgd, momentum: 0.9, nesterov: true, weightDecay: 0.0001}
 *            # or {type: adam | adamw, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0}
 * learningRate:                  # in order, not overlapping; startEpoch defaults to 0, endEpoch to epochs
 *   - {type: constant, lr: 0.1, startEpoch: 0, endEpoch: 35}
 *   - {type: cosine, initial: 0.1, minimum: 0.001, startEpoch: 35, endEpoch: 60}
 *     # also: linear {start, end}, step {initial, stepEpochs, gamma},
 *     #       multistep {initial, milestones (run epochs), gamma}, exponential {initial, gamma}
 * pruning:                       # optional
 *   - type: gmp                  # gradual magnitude pruning
 *     initSparsity: 0.05
 *     finalSparsity: 0.9
 *     startEpoch: 1
 *     endEpoch: 35
 *     updateFrequency: 0.5       # epochs, fractions allowed
 *     schedule: cubic            # or linear
 *     scope: layer               # or global
 *     params: ['dense_1/kernel', 'conv.*']   # optional: default every Dense/Conv kernel
 *     leaveEnabled: true         # optional: keep the masks after endEpoch (default true)
 *   - {type: constant, sparsity: 0.5, startEpoch: 0, endEpoch: 10, scope: layer}
 *   - type: gmp                  # N:M: keep the N largest |w| of every M inputs (Conv2D: input channels)
 *     structure: "2:4"           # 1 <= N < M <= 16, channels or block:RxC; scope must be layer (the default)
 *     initSparsity: 0            # optional with N:M (default 0); required with channels and blocks
 *     finalSparsity: 0.5         # optional with N:M: it is 1 - N/M, another value is an error; required with channels and blocks
 *     startEpoch: 1
 *     endEpoch: 10
 *     updateFrequency: 1         # each group keeps ceil((1 - s_t) * M) >= N (see NmStructure)
 *   - {type: constant, structure: "2:4", startEpoch: 0}   # one-shot N:M; sparsity optional
 * distillation:                  # optional: knowledge distillation from a frozen teacher (see Distillation)
 *   weight: 0.5                  # a in (0, 1]: loss = (1 - a) CE + a T^2 KL(teacher || student)
 *   temperature: 2               # T > 0
 *   teacher: start               # the model the run starts from (default), or a model file path
 * augmentation:                  # optional: random changes to each training image (see Augmentation); both off by default
 *   flip: true                   # mirror left to right with probability 0.5
 *   crop: 4                      # pad P zero pixels on each side, crop back to H x W at a random offset; 0 (none) or 1 <= P <= min(H, W) / 2
 * </pre>
 */
public final class RecipeParser {
    private static final YAMLMapper YAML = new YAMLMapper();

    private RecipeParser() {}

    /** Reads a recipe file; the recipe's name defaults to the file name without extension. */
    public static Recipe parse(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new RecipeException("recipe file " + file + " does not exist; give a YAML file or a built-in recipe name " + Recipes.builtInNames());
        } catch (java.nio.charset.MalformedInputException e) {
            // the decoder's own message is "Input length = 1", which says nothing to whoever gave a model as --recipe
            throw new RecipeException("recipe file " + file + " is not a YAML text file (it is not UTF-8); give a recipe YAML file "
                    + "(shears recipes gmp-tuned prints one to start from) or a built-in recipe name " + Recipes.builtInNames());
        } catch (IOException e) {
            if (Files.isDirectory(file))
                throw new RecipeException("recipe file " + file + " is a folder; give a YAML file or a built-in recipe name " + Recipes.builtInNames());
            throw new RecipeException("cannot read recipe file " + file + ": " + AtomicFiles.reason(e), e);
        }
        String base = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        return parse(text, file.toString(), base);
    }

    /**
     * Parses YAML text.
     *
     * @param source      where the text came from, named in every error
     * @param defaultName the name when the recipe has none
     */
    public static Recipe parse(String text, String source, String defaultName) {
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JacksonException e) {
            JsonLocation loc = e.getLocation();
            throw new RecipeException(source + ": not valid YAML" + (loc != null ? " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")" : "")
                    + ": " + e.getOriginalMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) throw new RecipeException(source + ": the recipe is empty");
        if (!root.isObject()) throw new RecipeException(source + ": a recipe is a YAML mapping (name: ..., epochs: ...), got a " + root.getNodeType().toString().toLowerCase());
        Fields top = new Fields(source, "", root, "name", "description", "epochs", "batchSize", "optimizer", "learningRate", "pruning", "distillation", "augmentation");
        String name = top.string("name", defaultName);
        String description = top.string("description", "");
        int epochs = top.requiredInt("epochs");
        int batchSize = top.requiredInt("batchSize");
        OptimizerSpec optimizer = optimizer(top.requiredObject("optimizer"));
        List<LearningRateModifier> lr = new ArrayList<>();
        List<Fields> lrItems = top.objectList("learningRate", true);
        for (Fields f : lrItems) lr.add(learningRate(f, epochs));
        List<PruningModifier> pruning = new ArrayList<>();
        for (Fields f : top.objectList("pruning", false)) pruning.add(pruning(f, epochs));
        Distillation distillation = top.get("distillation") == null ? null : distillation(top.requiredObject("distillation"));
        Augmentation augmentation = top.get("augmentation") == null ? null : augmentation(top.requiredObject("augmentation"));
        top.rejectUnknown();
        try {
            return new Recipe(name, description, epochs, batchSize, optimizer, lr, pruning, distillation, augmentation);
        } catch (RecipeException e) {
            throw new RecipeException(source + ": " + e.getMessage(), e);
        }
    }

    private static OptimizerSpec optimizer(Fields f) {
        String type = f.choice("type", List.of("sgd", "adam", "adamw"));
        try {
            return switch (type) {
                case "sgd" -> {
                    f.allow("type", "momentum", "nesterov", "weightDecay");
                    OptimizerSpec s = new OptimizerSpec.SgdSpec(f.number("momentum", 0.9), f.bool("nesterov", false), f.number("weightDecay", 0));
                    f.rejectUnknown();
                    yield s;
                }
                case "adam", "adamw" -> {
                    f.allow("type", "beta1", "beta2", "eps", "weightDecay");
                    OptimizerSpec s = new OptimizerSpec.AdamSpec(f.number("beta1", 0.9), f.number("beta2", 0.999),
                            f.number("eps", 1e-8), f.number("weightDecay", 0), type.equals("adamw"));
                    f.rejectUnknown();
                    yield s;
                }
                default -> throw new IllegalStateException(type);
            };
        } catch (RecipeException e) {
            throw f.wrap(e);
        }
    }

    private static LearningRateModifier learningRate(Fields f, int epochs) {
        String type = f.choice("type", List.of("constant", "linear", "step", "multistep", "exponential", "cosine"));
        try {
            double start = f.number("startEpoch", 0);
            double end = f.number("endEpoch", epochs);
            LearningRateSchedule s = switch (type) {
                case "constant" -> {
                    f.allow("type", "startEpoch", "endEpoch", "lr");
                    yield new LearningRateSchedule.Constant(f.requiredNumber("lr"));
                }
                case "linear" -> {
                    f.allow("type", "startEpoch", "endEpoch", "start", "end");
                    yield new LearningRateSchedule.Linear(f.requiredNumber("start"), f.requiredNumber("end"), end - start);
                }
                case "step" -> {
                    f.allow("type", "startEpoch", "endEpoch", "initial", "stepEpochs", "gamma");
                    yield new LearningRateSchedule.StepDecay(f.requiredNumber("initial"), f.requiredNumber("stepEpochs"), f.requiredNumber("gamma"));
                }
                case "multistep" -> {
                    f.allow("type", "startEpoch", "endEpoch", "initial", "milestones", "gamma");
                    List<Double> ms = new ArrayList<>();
                    for (double m : f.numberList("milestones")) {
                        if (!(m > start && m < end))
                            throw new RecipeException("milestones: " + PruningModifier.num(m) + " is outside this modifier's epochs ("
                                    + PruningModifier.num(start) + ", " + PruningModifier.num(end) + "); milestones are epochs of the run");
                        ms.add(m - start);
                    }
                    yield new LearningRateSchedule.MultiStep(f.requiredNumber("initial"), ms, f.requiredNumber("gamma"));
                }
                case "exponential" -> {
                    f.allow("type", "startEpoch", "endEpoch", "initial", "gamma");
                    yield new LearningRateSchedule.Exponential(f.requiredNumber("initial"), f.requiredNumber("gamma"));
                }
                case "cosine" -> {
                    f.allow("type", "startEpoch", "endEpoch", "initial", "minimum");
                    yield new LearningRateSchedule.Cosine(f.requiredNumber("initial"), f.number("minimum", 0), end - start);
                }
                default -> throw new IllegalStateException(type);
            };
            f.rejectUnknown();
            return new LearningRateModifier(start, end, s);
        } catch (IllegalArgumentException e) {
            throw f.wrap(e);
        }
    }

    private static PruningModifier pruning(Fields f, int epochs) {
        String type = f.choice("type", List.of("gmp", "constant"));
        try {
            Scope scope = switch (f.choice("scope", List.of("layer", "global"), "layer")) {
                case "global" -> Scope.GLOBAL;
                default -> Scope.LAYER;
            };
            ParamSelection params = new ParamSelection(f.stringList("params"));
            boolean leave = f.bool("leaveEnabled", true);
            String structureText = f.string("structure", null);
            Structure structure;
            try {
                structure = structureText == null ? null : Structure.parse(structureText);
            } catch (RecipeException e) {
                throw f.error("structure", e.getMessage().replaceFirst("^structure = ", ""));
            }
            PruningModifier m = switch (type) {
                case "gmp" -> {
                    f.allow("type", "initSparsity", "finalSparsity", "startEpoch", "endEpoch", "updateFrequency",
                            "schedule", "scope", "params", "leaveEnabled", "structure");
                    SparsityCurve curve = f.choice("schedule", List.of("cubic", "linear"), "cubic").equals("linear")
                            ? SparsityCurve.LINEAR : SparsityCurve.CUBIC;
                    // with N:M the sparsities follow from it: the final one is 1 - N/M, the initial defaults to 0;
                    // channels take them as unstructured pruning does (the fraction of each layer's channels)
                    double fin = structure instanceof NmStructure nm ? f.number("finalSparsity", nm.sparsity()) : f.requiredNumber("finalSparsity");
                    double init = structure instanceof NmStructure ? f.number("initSparsity", 0) : f.requiredNumber("initSparsity");
                    yield new PruningModifier.GradualMagnitude(init, fin,
                            f.requiredNumber("startEpoch"), f.requiredNumber("endEpoch"), f.requiredNumber("updateFrequency"),
                            curve, scope, params, leave, structure);
                }
                case "constant" -> {
                    f.allow("type", "sparsity", "startEpoch", "endEpoch", "scope", "params", "leaveEnabled", "structure");
                    double sparsity = structure instanceof NmStructure nm ? f.number("sparsity", nm.sparsity()) : f.requiredNumber("sparsity");
                    yield new PruningModifier.ConstantSparsity(sparsity, f.number("startEpoch", 0),
                            f.number("endEpoch", epochs), scope, params, leave, structure);
                }
                default -> throw new IllegalStateException(type);
            };
            f.rejectUnknown();
            return m;
        } catch (IllegalArgumentException e) {
            throw f.wrap(e);
        }
    }

    private static Distillation distillation(Fields f) {
        f.allow("weight", "temperature", "teacher");
        double weight = f.number("weight", Distillation.DEFAULT_WEIGHT);
        double temperature = f.number("temperature", Distillation.DEFAULT_TEMPERATURE);
        String teacher = f.string("teacher", Distillation.Teacher.Start.NAME);
        f.rejectUnknown();
        try {
            return new Distillation(weight, temperature, Distillation.Teacher.parse(teacher));
        } catch (RecipeException e) {
            // Distillation's messages name the field by its whole path (distillation.weight): only the source is added
            throw new RecipeException(f.source + ": " + e.getMessage(), e);
        }
    }

    private static Augmentation augmentation(Fields f) {
        f.allow("flip", "crop");
        boolean flip = f.bool("flip", false);
        double crop = f.number("crop", 0);
        if (crop != Math.rint(crop) || Math.abs(crop) > Integer.MAX_VALUE)
            throw f.error("crop", PruningModifier.num(crop) + " is not a whole number of pixels (the zero padding on each side before the random crop; 4 is usual)");
        f.rejectUnknown();
        try {
            return new Augmentation(flip, (int) crop);
        } catch (RecipeException e) {
            // Augmentation's messages name the field by its whole path (augmentation.crop): only the source is added
            throw new RecipeException(f.source + ": " + e.getMessage(), e);
        }
    }

    /** Equal ignoring case, or at most two single-character edits apart (Levenshtein distance). */
    static boolean nearlyEqual(String a, String b) {
        a = a.toLowerCase(java.util.Locale.ROOT);
        b = b.toLowerCase(java.util.Locale.ROOT);
        if (Math.abs(a.length() - b.length()) > 2) return false;
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++)
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()] <= 2;
    }

    /** A YAML mapping being read, with its path for errors and the fields it may hold. */
    private static final class Fields {
        final String source;
        final String path;
        final JsonNode node;
        final Set<String> allowed = new LinkedHashSet<>();

        Fields(String source, String path, JsonNode node, String... allowed) {
            this.source = source;
            this.path = path;
            this.node = node;
            allow(allowed);
        }

        void allow(String... names) { allowed.addAll(List.of(names)); }

        String at(String key) { return path.isEmpty() ? key : path + "." + key; }

        RecipeException error(String key, String message) {
            return new RecipeException(source + ": " + at(key) + ": " + message);
        }

        /**
         * A required field that is not there; names a field that is, spelt nearly like it (a typo
         * such as {@code epoch:} or {@code batchsize:} was reported only as the missing field).
         */
        RecipeException missing(String key, String message) {
            Iterator<String> it = node.fieldNames();
            while (it.hasNext()) {
                String k = it.next();
                if (!k.equals(key) && !allowed.contains(k) && nearlyEqual(k, key))
                    return error(key, message + " (this mapping has '" + k + "': misspelt '" + key + "'?)");
            }
            return error(key, message);
        }

        /** Prefixes an error raised while building this mapping's record with the source and path. */
        RecipeException wrap(RuntimeException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(source + ": ")) return e instanceof RecipeException r ? r : new RecipeException(e.getMessage(), e);
            return new RecipeException(source + ": " + path + ": " + e.getMessage(), e);
        }

        void rejectUnknown() {
            Iterator<String> it = node.fieldNames();
            while (it.hasNext()) {
                String k = it.next();
                if (!allowed.contains(k))
                    throw error(k, "unknown field; allowed here: " + allowed);
            }
        }

        JsonNode get(String key) {
            JsonNode v = node.get(key);
            return v == null || v.isNull() ? null : v;
        }

        String string(String key, String def) {
            JsonNode v = get(key);
            if (v == null) return def;
            if (!v.isValueNode()) throw error(key, "expected text, got " + v);
            return v.asText();
        }

        double number(String key, double def) {
            JsonNode v = get(key);
            return v == null ? def : toNumber(key, v);
        }

        double requiredNumber(String key) {
            JsonNode v = get(key);
            if (v == null) throw missing(key, "is missing; it is required here");
            return toNumber(key, v);
        }

        private double toNumber(String key, JsonNode v) {
            if (v.isNumber()) return v.asDouble();
            if (v.isTextual()) {
                // YAML 1.1 reads 1e-4 (no dot) as text; accept it as the number it plainly is.
                try {
                    return Double.parseDouble(v.asText().trim());
                } catch (NumberFormatException ignored) { /* fall through */ }
            }
            throw error(key, shown(v) + " is not a number");
        }

        int requiredInt(String key) {
            double d = requiredNumber(key);
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) throw error(key, PruningModifier.num(d) + " is not a whole number");
            return (int) d;
        }

        /** A scalar as the user wrote it, in quotes; a list or a mapping as JSON (asText() gives "" for those). */
        private static String shown(JsonNode v) {
            return v.isValueNode() ? "'" + v.asText() + "'" : v.toString();
        }

        boolean bool(String key, boolean def) {
            JsonNode v = get(key);
            if (v == null) return def;
            if (v.isBoolean()) return v.asBoolean();
            throw error(key, shown(v) + " is not true or false");
        }

        String choice(String key, List<String> options) {
            JsonNode v = get(key);
            if (v == null) throw error(key, "is missing; allowed: " + options);
            return choiceOf(key, v, options);
        }

        String choice(String key, List<String> options, String def) {
            JsonNode v = get(key);
            return v == null ? def : choiceOf(key, v, options);
        }

        private String choiceOf(String key, JsonNode v, List<String> options) {
            String s = v.asText();
            if (!v.isTextual() || !options.contains(s)) throw error(key, shown(v) + " is not allowed; allowed: " + options);
            return s;
        }

        List<String> stringList(String key) {
            JsonNode v = get(key);
            if (v == null) return List.of();
            if (v.isTextual()) return List.of(v.asText());
            if (!v.isArray()) throw error(key, "expected a list of parameter names or regular expressions, got " + v);
            List<String> out = new ArrayList<>();
            for (JsonNode e : v) {
                if (!e.isTextual()) throw error(key, "element " + e + " is not text");
                out.add(e.asText());
            }
            return out;
        }

        List<Double> numberList(String key) {
            JsonNode v = get(key);
            if (v == null) throw missing(key, "is missing; give a list of epochs");
            if (!v.isArray()) throw error(key, "expected a list of epochs, got " + v);
            List<Double> out = new ArrayList<>();
            for (JsonNode e : v) out.add(toNumber(key, e));
            return out;
        }

        Fields requiredObject(String key) {
            JsonNode v = get(key);
            if (v == null) throw missing(key, "is missing; it is required");
            if (!v.isObject()) throw error(key, "expected a mapping, got " + v);
            return new Fields(source, at(key), v);
        }

        List<Fields> objectList(String key, boolean required) {
            JsonNode v = get(key);
            if (v == null) {
                if (required) throw missing(key, "is missing; give a list of modifiers");
                return List.of();
            }
            if (!v.isArray()) throw error(key, "expected a list (each item starting with '- type: ...'), got " + v.getNodeType().toString().toLowerCase());
            List<Fields> out = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                JsonNode e = v.get(i);
                String p = at(key) + "[" + i + "]";
                if (!e.isObject()) throw new RecipeException(source + ": " + p + ": expected a mapping, got " + e);
                out.add(new Fields(source, p, e));
            }
            return out;
        }
    }
}
