package dev.shears.pruning;

import dev.shears.core.nn.Layer;
import dev.shears.core.nn.layers.ActivationLayer;
import dev.shears.core.nn.layers.AvgPool2D;
import dev.shears.core.nn.layers.BatchNorm;
import dev.shears.core.nn.layers.Conv2D;
import dev.shears.core.nn.layers.Dropout;
import dev.shears.core.nn.layers.GlobalAvgPool2D;
import dev.shears.core.nn.layers.GlobalMaxPool2D;
import dev.shears.core.nn.layers.Identity;
import dev.shears.core.nn.layers.MaxPool2D;
import dev.shears.core.nn.layers.PReLU;
import dev.shears.core.nn.layers.ZeroPad2D;

/**
 * The layers whose output channel c is computed from input channel c only, so their channels come
 * and go with their input's: activations, BatchNorm, PReLU, Dropout, Identity, pooling, ZeroPad2D
 * and a depthwise convolution of multiplier 1. The one list that thinning ({@code ChannelFlow}) and
 * the tied sets ({@code thin.ChannelSets}, from the same walk) look through.
 */
public final class ChannelWise {
    private ChannelWise() {}

    /** Whether {@code l} acts channel by channel. */
    public static boolean is(Layer l) {
        return l instanceof Conv2D c && depthwise(c)
                || l instanceof ActivationLayer || l instanceof BatchNorm || l instanceof PReLU || l instanceof Dropout
                || l instanceof Identity || l instanceof MaxPool2D || l instanceof AvgPool2D || l instanceof ZeroPad2D
                || l instanceof GlobalAvgPool2D || l instanceof GlobalMaxPool2D;
    }

    /**
     * A depthwise convolution whose output channel c reads input channel c only (one group per
     * channel, depth multiplier 1): a channel-wise layer, whose channels come and go with its
     * input's. (With a multiplier above 1 several outputs share an input: thinning keeps those whole.)
     */
    public static boolean depthwise(Conv2D c) {
        return c.depthwise() && c.outChannels() == c.inChannels();
    }
}
