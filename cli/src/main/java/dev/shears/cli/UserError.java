package dev.shears.cli;

/** A problem with what the user asked for (bad flag combination, missing file): exit code 2. */
public class UserError extends RuntimeException {
    public UserError(String message) { super(message); }
    public int exitCode() { return 2; }
}
