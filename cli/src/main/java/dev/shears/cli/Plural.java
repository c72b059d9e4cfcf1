package dev.shears.cli;

/** A count and its noun for messages: "1 epoch", "4 epochs" (a run of one epoch said "1 epochs"). */
final class Plural {
    private Plural() {}

    /** {@code n} and {@code singular}, with an "s" unless {@code n} is 1. */
    static String of(long n, String singular) { return n + " " + (n == 1 ? singular : singular + "s"); }
}
