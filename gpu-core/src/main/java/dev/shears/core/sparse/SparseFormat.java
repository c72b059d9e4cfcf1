package dev.shears.core.sparse;

/** The storage formats the planner chooses between; {@link #id()} is the name in reports and JSON. */
public enum SparseFormat {
    /** every weight stored; products through {@link dev.shears.core.cpu.Sgemm} */
    DENSE("dense"),
    /** compressed sparse rows: row pointers, column indices, values */
    CSR("csr"),
    /** Blocked-ELL (the cuSPARSE layout): a fixed number of dense b x b blocks per block-row */
    BLOCKED_ELL("blocked-ell"),
    /** N:M structured sparsity (2:4 for sparse tensor cores): at most N nonzeros in every M along k */
    NM("2:4");

    private final String id;

    SparseFormat(String id) { this.id = id; }

    public String id() { return id; }

    @Override public String toString() { return id; }
}
