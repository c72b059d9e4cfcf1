package dev.shears.kernels;

import java.lang.foreign.MemorySegment;

/** A kernel entry point of the loaded image: its extern "C" name and CUfunction handle. */
public record Kernel(String name, MemorySegment function) {}
