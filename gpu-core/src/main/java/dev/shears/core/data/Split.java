package dev.shears.core.data;

/** A training set and its test set. */
public record Split(Dataset train, Dataset test) {}
