package dev.shears.core.backend;

/**
 * Element-wise activations every backend implements, forward and backward. The ordinal is the
 * CUDA kernels' activation code (activation.cu): new values go at the end.
 *
 * <p>At a kink the backward uses the derivative of the flat (saturated) side: ReLU's is 0 at
 * 0, HARD_SIGMOID's 0 at (0-beta)/alpha and (1-beta)/alpha (+-2.5 for Keras 2's 0.2, 0.5),
 * RELU_CAPPED's 0 at 0 and at the cap, HARD_SWISH's 0 at -3 and 1 at 3.
 */
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
    /**
     * clip(alpha*x + beta, 0, 1), slope {@code alpha} and offset {@code beta} being the layer's
     * parameters: ONNX's HardSigmoid(alpha, beta); Keras 2's hard_sigmoid is slope 0.2, offset 0.5
     * ({@link #HARD_SIGMOID_SLOPE}, {@link #HARD_SIGMOID_OFFSET}, the defaults), Keras 3's
     * hard_sigmoid relu6(x+3)/6 and PyTorch's Hardsigmoid are slope 1/6, offset 0.5
     */
    HARD_SIGMOID,
    /**
     * min(max(x, 0), cap), the cap being the layer's float parameter ({@code alpha}); cap 6 is
     * ReLU6 (MobileNet), Keras's {@code ReLU(max_value=cap)}, ONNX's {@code Clip(x, 0, cap)}
     */
    RELU_CAPPED,
    /**
     * x * relu6(x+3)/6 (Howard et al. 2019, MobileNetV3), ONNX's HardSwish (opset 14)
     * x * max(0, min(1, x/6 + 0.5)) and Keras 3's hard_silu
     */
    HARD_SWISH,
    /** x * sigmoid(x), also called SiLU (Ramachandran et al. 2017; Elfwing et al. 2018) */
    SWISH;

    public static final float SELU_ALPHA = 1.6732632423543772f;
    public static final float SELU_SCALE = 1.0507009873554805f;

    /** HARD_SIGMOID's default slope and offset: Keras 2's clip(0.2x + 0.5, 0, 1), ONNX HardSigmoid's attribute defaults. */
    public static final float HARD_SIGMOID_SLOPE = 0.2f, HARD_SIGMOID_OFFSET = 0.5f;

    /** Keras 3's hard_sigmoid relu6(x + 3) / 6 and PyTorch's Hardsigmoid as a HARD_SIGMOID slope (offset 0.5). */
    public static final float HARD_SIGMOID_SLOPE_SIXTH = 1f / 6;
}
