package dev.shears.core.data;

/** A data file that is missing, corrupt or inconsistent; the message names the file and the fix. */
public class DataException extends RuntimeException {
    public DataException(String message) { super(message); }
    public DataException(String message, Throwable cause) { super(message, cause); }
}
