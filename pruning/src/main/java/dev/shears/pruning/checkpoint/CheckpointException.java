package dev.shears.pruning.checkpoint;

/** A checkpoint that cannot be read; the message names the file and what is wrong. */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) { super(message); }
    public CheckpointException(String message, Throwable cause) { super(message, cause); }
}
