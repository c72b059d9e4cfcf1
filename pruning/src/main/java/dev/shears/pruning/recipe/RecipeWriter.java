package dev.shears.pruning.recipe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.shears.core.optim.LearningRateSchedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes a {@link Recipe} as YAML that {@link RecipeParser} reads back to an equal recipe (for checkpoints and reports). */
public final class RecipeWriter {
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build();

    private RecipeWriter() {}

    public static String toYaml(Recipe r) {
        try {
            return YAML.writeValueAsString(toMap(r));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write recipe " + r.name() + " as YAML", e);
        }
    }

    /** The recipe as nested maps and lists, in the YAML layout (also handy for JSON reports). */
    public static Map<String, Object> toMap(Recipe r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        if (!r.description().isEmpty()) m.put("description", r.description());
        m.put("epochs", r.epochs());
        m.put("batchSize", r.batchSize());
        m.put("optimizer", optimizer(r.optimizer()));
        List<Object> lr = new ArrayList<>();
        for (LearningRateModifier x : r.learningRate()) lr.add(learningRate(x));
        m.put("learningRate", lr);
        List<Object> pr = new ArrayList<>();
        for (PruningModifier x : r.pruning()) pr.add(pruning(x));
        if (!pr.isEmpty()) m.put("pruning", pr);
        if (r.distillation() != null) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("weight", r.distillation().weight());
            d.put("temperature", r.distillation().temperature());
            d.put("teacher", r.distillation().teacher().recipeName());
            m.put("distillation", d);
        }
        if (r.augmentation() != null) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("flip", r.augmentation().flip());
            a.put("crop", r.augmentation().crop());
            m.put("augmentation", a);
        }
        return m;
    }

    private static Map<String, Object> optimizer(OptimizerSpec o) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (o) {
            case OptimizerSpec.SgdSpec s -> {
                m.put("type", "sgd");
                m.put("momentum", s.momentum());
                m.put("nesterov", s.nesterov());
                m.put("weightDecay", s.weightDecay());
            }
            case OptimizerSpec.AdamSpec a -> {
                m.put("type", a.decoupled() ? "adamw" : "adam");
                m.put("beta1", a.beta1());
                m.put("beta2", a.beta2());
                m.put("eps", a.eps());
                m.put("weightDecay", a.weightDecay());
            }
        }
        return m;
    }

    private static Map<String, Object> learningRate(LearningRateModifier x) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (x.schedule()) {
            case LearningRateSchedule.Constant c -> { m.put("type", "constant"); m.put("lr", c.lr()); }
            case LearningRateSchedule.Linear l -> { m.put("type", "linear"); m.put("start", l.start()); m.put("end", l.end()); }
            case LearningRateSchedule.StepDecay s -> {
                m.put("type", "step"); m.put("initial", s.initial()); m.put("stepEpochs", s.stepEpochs()); m.put("gamma", s.gamma());
            }
            case LearningRateSchedule.MultiStep s -> {
                m.put("type", "multistep"); m.put("initial", s.initial());
                m.put("milestones", s.milestones().stream().map(v -> v + x.startEpoch()).toList());
                m.put("gamma", s.gamma());
            }
            case LearningRateSchedule.Exponential e -> { m.put("type", "exponential"); m.put("initial", e.initial()); m.put("gamma", e.gamma()); }
            case LearningRateSchedule.Cosine c -> { m.put("type", "cosine"); m.put("initial", c.initial()); m.put("minimum", c.minimum()); }
            case LearningRateSchedule.Piecewise p ->
                    throw new IllegalArgumentException("a learning-rate modifier cannot hold a piecewise schedule; give its segments as modifiers");
        }
        m.put("startEpoch", x.startEpoch());
        m.put("endEpoch", x.endEpoch());
        return m;
    }

    private static Map<String, Object> pruning(PruningModifier x) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (x) {
            case PruningModifier.GradualMagnitude g -> {
                m.put("type", "gmp");
                m.put("initSparsity", g.initSparsity());
                m.put("finalSparsity", g.finalSparsity());
                m.put("startEpoch", g.startEpoch());
                m.put("endEpoch", g.endEpoch());
                m.put("updateFrequency", g.updateFrequency());
                m.put("schedule", g.curve().recipeName());
            }
            case PruningModifier.ConstantSparsity c -> {
                m.put("type", "constant");
                m.put("sparsity", c.sparsity());
                m.put("startEpoch", c.startEpoch());
                m.put("endEpoch", c.endEpoch());
            }
        }
        m.put("scope", x.scope().recipeName());
        if (x.structure() != null) m.put("structure", x.structure().recipeName());
        if (!x.params().isDefault()) m.put("params", x.params().patterns());
        m.put("leaveEnabled", x.leaveEnabled());
        return m;
    }
}
