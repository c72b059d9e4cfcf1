package dev.shears.core.backend;

/** Element-wise activations every backend implements, forward and backward. */
public enum Activation {
    /** identity */
    LINEAR,
    RELU,
    /** x > 0 ? x : alpha*x */
    LEAKY_RELU,
    SIGMOID,
    TANH,
    /** x > 0 ? x : alpha*(exp(x)-1) */
    ELU,
    /** scale*(x > 0 ? x : alpha*(exp(x)-1)) with the fixed SELU constants (Klambauer et al. 2017) */
    SELU,
    /** log(1+exp(x)) */
    SOFTPLUS,
    /** x / (1+|x|) */
    SOFTSIGN,
    /** clip(0.2*x+0.5, 0, 1), the Keras definition */
    HARD_SIGMOID;

    public static final float SELU_ALPHA = 1.6732632423543772f;
    public static final float SELU_SCALE = 1.0507009873554805f;
}
