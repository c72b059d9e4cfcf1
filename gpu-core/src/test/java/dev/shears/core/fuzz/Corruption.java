package dev.shears.core.fuzz;

/**
 * One damaged copy of a seed file.
 *
 * @param name  what was done, reproducibly (e.g. {@code truncate@412}, {@code int32le=-1@96}); it
 *              is part of the case's file name, so a failure report can be replayed by hand
 * @param bytes the damaged file's content
 */
public record Corruption(String name, byte[] bytes) {}
