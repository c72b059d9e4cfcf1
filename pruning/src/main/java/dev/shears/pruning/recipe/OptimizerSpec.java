package dev.shears.pruning.recipe;

import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Parameter;
import dev.shears.core.optim.Adam;
import dev.shears.core.optim.Optimizer;

import java.util.List;

/** The optimizer a recipe trains with, validated; {@link #create} builds it for a bound model. */
public sealed interface OptimizerSpec {

    Optimizer create(Backend backend, List<Parameter> parameters);

    /** SGD with momentum (PyTorch's formulation), optional Nesterov, L2 weight decay. */
    record SgdSpec(double momentum, boolean nesterov, double weightDecay) implements OptimizerSpec {
        public SgdSpec {
            if (!(momentum >= 0 && momentum < 1)) throw new RecipeException("momentum = " + momentum + " is outside [0, 1)");
            if (nesterov && momentum == 0) throw new RecipeException("nesterov = true needs momentum > 0, got momentum = 0");
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) throw new RecipeException("weightDecay = " + weightDecay + " must be finite and >= 0");
        }
        @Override public Optimizer create(Backend backend, List<Parameter> parameters) {
            return new dev.shears.core.optim.Sgd(backend, parameters, (float) momentum, nesterov, (float) weightDecay);
        }
    }

    /** Adam, or AdamW when {@code decoupled} (weight decay applied to the weights, not the gradient). */
    record AdamSpec(double beta1, double beta2, double eps, double weightDecay, boolean decoupled) implements OptimizerSpec {
        public AdamSpec {
            if (!(beta1 >= 0 && beta1 < 1)) throw new RecipeException("beta1 = " + beta1 + " is outside [0, 1)");
            if (!(beta2 >= 0 && beta2 < 1)) throw new RecipeException("beta2 = " + beta2 + " is outside [0, 1)");
            if (!(eps > 0) || Double.isInfinite(eps)) throw new RecipeException("eps = " + eps + " must be finite and > 0");
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) throw new RecipeException("weightDecay = " + weightDecay + " must be finite and >= 0");
        }
        @Override public Optimizer create(Backend backend, List<Parameter> parameters) {
            return new Adam(backend, parameters, (float) beta1, (float) beta2, (float) eps, (float) weightDecay, decoupled);
        }
    }
}
