package dev.shears.core.nn;

import dev.shears.core.backend.Backend;

/**
 * What a forward or backward pass needs besides its inputs.
 *
 * @param training true in a training step (dropout active, batch statistics in batch norm)
 * @param seed     seed of this step's random draws (dropout); a function of the run seed and step
 */
public record ExecContext(Backend backend, boolean training, long seed) {
    public static ExecContext inference(Backend backend) { return new ExecContext(backend, false, 0); }
}
