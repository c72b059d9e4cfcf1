package dev.shears.nativebind;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The {@code void** kernelParams} array of cuLaunchKernel: one slot per argument (64 bytes, enough
 * for a scalar or a small struct of ints passed by value) and an array of pointers to the slots,
 * allocated once and reused, so a launch allocates nothing.
 * Arguments are added in the kernel's parameter order; {@link #reset()} starts the next launch.
 * Not thread-safe: each launcher owns one.
 */
public final class KernelArgs implements AutoCloseable {
    /** Bytes per argument slot: scalars use the first 4 or 8; a struct of up to 16 ints fills it. */
    private static final long SLOT = 64;

    private final Arena arena;
    private final int capacity;
    /** capacity slots of 8 bytes each */
    private final MemorySegment slots;
    /** capacity pointers, pointers[i] = &slots[i] */
    private final MemorySegment pointers;
    private int count;

    public KernelArgs(int capacity) {
        this.arena = Arena.ofShared();
        this.capacity = capacity;
        this.slots = arena.allocate(SLOT * capacity, 16);
        this.pointers = arena.allocate(ADDRESS, capacity);
        for (int i = 0; i < capacity; i++) pointers.setAtIndex(ADDRESS, i, slots.asSlice(SLOT * i, SLOT));
    }

    /** Clears the argument list for the next launch. */
    public KernelArgs reset() {
        count = 0;
        return this;
    }

    private long next() {
        if (count == capacity) throw new IllegalStateException("more than " + capacity + " kernel arguments");
        return SLOT * count++;
    }

    /** A device pointer ({@code T*} on the device side). */
    public KernelArgs ptr(long devicePointer) { slots.set(JAVA_LONG, next(), devicePointer); return this; }

    /** An {@code int} or {@code unsigned int}. */
    public KernelArgs i32(int v) { slots.set(JAVA_INT, next(), v); return this; }

    /** A {@code long long} / {@code size_t}. */
    public KernelArgs i64(long v) { slots.set(JAVA_LONG, next(), v); return this; }

    public KernelArgs f32(float v) { slots.set(JAVA_FLOAT, next(), v); return this; }

    public KernelArgs f64(double v) { slots.set(JAVA_DOUBLE, next(), v); return this; }

    /** A struct of up to 16 {@code int} fields passed by value (C layout: packed, 4-byte aligned). */
    public KernelArgs ints(int... fields) {
        if (fields.length > SLOT / 4) throw new IllegalArgumentException("struct of " + fields.length + " ints exceeds " + SLOT + " bytes");
        long at = next();
        for (int i = 0; i < fields.length; i++) slots.set(JAVA_INT, at + 4L * i, fields[i]);
        return this;
    }

    /** Number of arguments added since the last reset. */
    public int count() { return count; }

    /** The {@code void**} to pass to cuLaunchKernel. */
    public MemorySegment pointers() { return pointers; }

    /** The first 8 bytes of argument {@code i}'s slot as a long (for tests and error messages). */
    public long slotBits(int i) {
        if (i < 0 || i >= count) throw new IndexOutOfBoundsException("argument " + i + " of " + count);
        return slots.get(JAVA_LONG, SLOT * i);
    }

    @Override public void close() { arena.close(); }
}
