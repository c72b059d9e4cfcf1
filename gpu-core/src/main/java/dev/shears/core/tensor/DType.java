package dev.shears.core.tensor;

/** Element types a backend stores. Masks are UINT8 (0 = pruned, 1 = kept); indices are INT32. */
public enum DType {
    FLOAT32(4), INT32(4), UINT8(1);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    public int bytes() { return bytes; }
}
