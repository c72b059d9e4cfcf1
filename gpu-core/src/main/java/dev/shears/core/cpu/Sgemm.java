package dev.shears.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM on heap arrays, row-major:
 * C = alpha * op(A) * op(B) + beta * C, op(A) m x k, op(B) k x n; lda, ldb, ldc are the row
 * strides of the stored matrices. When beta == 0, C is not read.
 *
 * <p>The fast path follows the BLIS/GotoBLAS structure (Goto and van de Geijn, "Anatomy of
 * high-performance matrix multiplication", 2008): op(B) is packed in blocks of KC x NC into
 * column strips NR wide, a transposed A in blocks of MC x KC into row strips MR tall,
 * and a register-blocked micro-kernel keeps an MR x NR tile of C in vector registers while it
 * walks the shared k dimension with one FMA per (row, vector) per step. An untransposed A is read
 * in place (its rows are contiguous along k already). Packing makes every transpose combination
 * run the same kernel on contiguous memory. Packed buffers live in a
 * per-thread workspace allocated once, so steady-state calls allocate nothing.
 *
 * <p>Big problems are split over {@link Parallel} along the larger of m and n (each task owns a
 * slab of C and runs the sequential algorithm on it); small ones stay on the caller's thread.
 * Rows counts of at most {@link #SMALL_M} (batch-1 inference, GEMV) take a streaming path that
 * reads op(B) once without packing it, since packing would cost as much as the product.
 */
public final class Sgemm {
    private Sgemm() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** floats per vector: 16 with AVX-512, 8 with AVX2 */
    static final int VL = S.length();
    /** micro-tile rows */
    static final int MR = 6;
    /** micro-tile columns: two vectors */
    static final int NR = 2 * VL;
    /** k-block: an MR x KC A strip (9 KB) stays in L1 while B strips stream from L2 */
    static final int KC = 384;
    /** m-block (a multiple of MR) */
    static final int MC = MR * 24;
    /** n-block (a multiple of NR): a KC x NC packed B block (~576 KB) stays in L2 */
    static final int NC = Math.max(NR, (384 / NR) * NR);
    /** at most this many rows take the unpacked streaming path */
    static final int SMALL_M = 4;
    /** below this many flops a product runs on the calling thread only */
    static final long PARALLEL_MIN_FLOPS = 2L * 96 * 96 * 96;

    /** at most this many C elements (m x n) take the dot-product path when A is not transposed and B is */
    static final int DOT_MAX_MN = 4096;
    /**
     * ... and only when the dot products are at least this long: each C element ends with a lane
     * sum and a scalar tail, which at LeNet-5 conv2's k = 100 made the product 2x slower than
     * packing (at conv1's k = 784 it is 3.8x faster)
     */
    static final int DOT_MIN_K = 256;
    /** rows of op(A) per dot-product block (times 4 columns: 12 accumulators) */
    static final int DOT_ROWS = 3;

    /** Per-thread packing buffers, allocated once per thread. */
    private static final class Workspace {
        /** packed op(A) block: ceil(MC/MR) strips of [KC][MR] */
        final float[] a = new float[MC * KC];
        /** packed op(B) block: ceil(NC/NR) strips of [KC][NR] */
        final float[] b = new float[KC * NC];
        /** one MR x NR tile, for the edges of C */
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0)
            throw new IllegalArgumentException("sgemm: negative size m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        long flops = 2L * m * n * k;
        boolean parallel = flops >= PARALLEL_MIN_FLOPS && Parallel.threads() > 1;
        if (m <= SMALL_M) {
            if (!parallel || n < 2 * VL) {
                smallM(transA, transB, m, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            } else {
                int vecs = (n + VL - 1) / VL;
                int tasks = Math.min(Parallel.threads(), vecs);
                Parallel.forTasks(tasks, t -> {
                    int j0 = Math.min(n, (int) ((long) vecs * t / tasks) * VL);
                    int j1 = Math.min(n, (int) ((long) vecs * (t + 1) / tasks) * VL);
                    if (j0 < j1) smallM(transA, transB, m, j0, j1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
                });
            }
            return;
        }
        if (!transA && transB && (long) m * n <= DOT_MAX_MN && k >= DOT_MIN_K) {
            // few C elements, each a long dot product of two contiguous rows (a convolution's weight
            // gradient dY_i * cols_i^T): packing op(B) would be a scalar transpose as big as B, for
            // only m FMAs per packed element; dot products read both operands in place
            scaleC(m, n, beta, c, cOff, ldc);
            int blocks = (m + DOT_ROWS - 1) / DOT_ROWS;
            int tasks = parallel ? Math.min(Parallel.threads(), blocks) : 1;
            Parallel.forTasks(tasks, t -> {
                int i0 = (int) ((long) blocks * t / tasks) * DOT_ROWS, i1 = Math.min(m, (int) ((long) blocks * (t + 1) / tasks) * DOT_ROWS);
                if (i0 < i1) dotRows(i0, i1, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
            });
            return;
        }
        if (!parallel) {
            blocked(transA, transB, 0, m, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        // Split the larger of m and n into slabs aligned to the micro-tile; the smaller operand is
        // packed by every task (the cheaper duplication).
        boolean splitN = n >= m;
        int unit = splitN ? NR : MR;
        int extent = splitN ? n : m;
        int units = (extent + unit - 1) / unit;
        int tasks = Math.min(Parallel.threads(), units);
        Parallel.forTasks(tasks, t -> {
            int s = Math.min(extent, (int) ((long) units * t / tasks) * unit);
            int e = Math.min(extent, (int) ((long) units * (t + 1) / tasks) * unit);
            if (s >= e) return;
            if (splitN) blocked(transA, transB, 0, m, s, e, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            else blocked(transA, transB, s, e, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        });
    }

    /** C = beta * C (zero when beta == 0, without reading C). */
    private static void scaleC(int m, int n, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) java.util.Arrays.fill(c, row, row + n, 0f);
            else if (beta != 1f) for (int j = 0; j < n; j++) c[row + j] *= beta;
        }
    }

    /** The packed, cache-blocked product for rows [i0, i1) and columns [j0, j1) of C. */
    private static void blocked(boolean transA, boolean transB, int i0, int i1, int j0, int j1, int k, float alpha,
                                float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                float beta, float[] c, int cOff, int ldc) {
        Workspace ws = WORKSPACE.get();
        int kBlocks = (k + KC - 1) / KC;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int kb = 0; kb < kBlocks; kb++) {
                // balanced k-blocks: 784 becomes 392 + 392 rather than 384 + 384 + 16
                int pc = (int) ((long) k * kb / kBlocks);
                int kc = (int) ((long) k * (kb + 1) / kBlocks) - pc;
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, ws.b);
                float betaEff = kb == 0 ? beta : 1f;
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    if (transA) packA(a, aOff, lda, ic, mc, pc, kc, ws.a);
                    macro(transA, a, aOff + ic * lda + pc, lda, mc, nc, kc, ws, c, cOff + ic * ldc + jc, ldc, alpha, betaEff);
                }
            }
        }
    }

    /**
     * Runs the micro-kernel over every MR x NR tile of an mc x nc block of C. A not transposed is
     * read in place (its rows are already contiguous along k: six row streams, no packing, which
     * measured 10-15% of a LeNet step); {@code aBase} then points at element (ic, pc). Transposed
     * A was packed by {@link #packA}. A partial strip of untransposed rows is copied, zero-padded.
     */
    private static void macro(boolean transA, float[] a, int aBase, int lda, int mc, int nc, int kc, Workspace ws,
                              float[] c, int cBase, int ldc, float alpha, float beta) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            float[] ap;
            int ai, rs, ps;
            if (transA) {
                ap = ws.a;
                ai = (ir / MR) * kc * MR;
                rs = 1;
                ps = MR;
            } else if (mr == MR) {
                ap = a;
                ai = aBase + ir * lda;
                rs = lda;
                ps = 1;
            } else {
                ap = ws.a;
                ai = 0;
                rs = 1;
                ps = MR;
                for (int p = 0; p < kc; p++)
                    for (int r = 0; r < MR; r++) ws.a[p * MR + r] = r < mr ? a[aBase + (ir + r) * lda + p] : 0f;
            }
            for (int jr = 0; jr < nc; jr += NR) {
                int nr = Math.min(NR, nc - jr);
                int bIdx = (jr / NR) * kc * NR;
                kernel(kc, ap, ai, rs, ps, ws.b, bIdx, c, cBase + ir * ldc + jr, ldc, alpha, beta, mr, nr, ws.tile);
            }
        }
    }

    /**
     * Packs op(A)[ic..ic+mc, pc..pc+kc] of a transposed A (stored k x m) into strips of MR rows:
     * strip s holds, for each p, the MR values of column p (rows past mc are zero).
     */
    private static void packA(float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float[] dst) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int base = (ir / MR) * kc * MR;
            // column p of op(A) is row p of A: MR contiguous values per p
            for (int p = 0; p < kc; p++) {
                int src = aOff + (pc + p) * lda + ic + ir;
                int d = base + p * MR;
                for (int r = 0; r < mr; r++) dst[d + r] = a[src + r];
                for (int r = mr; r < MR; r++) dst[d + r] = 0f;
            }
        }
    }

    /**
     * Packs op(B)[pc..pc+kc, jc..jc+nc] into strips of NR columns: strip t holds, for each p, the
     * NR values of row p (columns past nc are zero).
     */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                              float[] dst) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = (jr / NR) * kc * NR;
            if (!transB) {
                int src = bOff + pc * ldb + jc + jr;
                if (nr == NR) {
                    for (int p = 0, d = base; p < kc; p++, d += NR, src += ldb) {
                        FloatVector.fromArray(S, b, src).intoArray(dst, d);
                        FloatVector.fromArray(S, b, src + VL).intoArray(dst, d + VL);
                    }
                } else {
                    for (int p = 0, d = base; p < kc; p++, d += NR, src += ldb) {
                        for (int j = 0; j < nr; j++) dst[d + j] = b[src + j];
                        for (int j = nr; j < NR; j++) dst[d + j] = 0f;
                    }
                }
            } else {
                // column j of op(B) is row j of B: read along p, write with stride NR
                for (int j = 0; j < nr; j++) {
                    int src = bOff + (jc + jr + j) * ldb + pc;
                    for (int p = 0, d = base + j; p < kc; p++, d += NR) dst[d] = b[src + p];
                }
                for (int j = nr; j < NR; j++) for (int p = 0, d = base + j; p < kc; p++, d += NR) dst[d] = 0f;
            }
        }
    }

    /**
     * The MR x NR (6 x 2 vectors) micro-kernel: C_tile = A_strip * B_strip + beta * C_tile, with
     * the twelve accumulators in registers. Partial tiles (mr < MR or nr < NR, at the edges of C)
     * go through {@code tile} so that nothing outside C is touched.
     */
    private static void kernel(int kc, float[] ap, int ai, int rs, int ps, float[] bp, int bi, float[] c, int ci, int ldc,
                               float alpha, float beta, int mr, int nr, float[] tile) {
        int r1 = rs, r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs, r5 = 5 * rs;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++, ai += ps, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector av = FloatVector.broadcast(S, ap[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ai + r1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ai + r2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ai + r3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[ai + r4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[ai + r5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
        }
        if (alpha != 1f) {
            FloatVector av = FloatVector.broadcast(S, alpha);
            c00 = c00.mul(av);
            c01 = c01.mul(av);
            c10 = c10.mul(av);
            c11 = c11.mul(av);
            c20 = c20.mul(av);
            c21 = c21.mul(av);
            c30 = c30.mul(av);
            c31 = c31.mul(av);
            c40 = c40.mul(av);
            c41 = c41.mul(av);
            c50 = c50.mul(av);
            c51 = c51.mul(av);
        }
        if (mr == MR && nr == NR) {
            // Stores written out in full: passing the accumulators to a helper that C2 does not
            // inline boxes them, and the boxes reach back into the loop (measured 3x slower).
            if (beta == 0f) {
                c00.intoArray(c, ci);
                c01.intoArray(c, ci + VL);
                c10.intoArray(c, ci + ldc);
                c11.intoArray(c, ci + ldc + VL);
                c20.intoArray(c, ci + 2 * ldc);
                c21.intoArray(c, ci + 2 * ldc + VL);
                c30.intoArray(c, ci + 3 * ldc);
                c31.intoArray(c, ci + 3 * ldc + VL);
                c40.intoArray(c, ci + 4 * ldc);
                c41.intoArray(c, ci + 4 * ldc + VL);
                c50.intoArray(c, ci + 5 * ldc);
                c51.intoArray(c, ci + 5 * ldc + VL);
            } else {
                FloatVector bv = FloatVector.broadcast(S, beta);
                FloatVector.fromArray(S, c, ci).fma(bv, c00).intoArray(c, ci);
                FloatVector.fromArray(S, c, ci + VL).fma(bv, c01).intoArray(c, ci + VL);
                FloatVector.fromArray(S, c, ci + ldc).fma(bv, c10).intoArray(c, ci + ldc);
                FloatVector.fromArray(S, c, ci + ldc + VL).fma(bv, c11).intoArray(c, ci + ldc + VL);
                FloatVector.fromArray(S, c, ci + 2 * ldc).fma(bv, c20).intoArray(c, ci + 2 * ldc);
                FloatVector.fromArray(S, c, ci + 2 * ldc + VL).fma(bv, c21).intoArray(c, ci + 2 * ldc + VL);
                FloatVector.fromArray(S, c, ci + 3 * ldc).fma(bv, c30).intoArray(c, ci + 3 * ldc);
                FloatVector.fromArray(S, c, ci + 3 * ldc + VL).fma(bv, c31).intoArray(c, ci + 3 * ldc + VL);
                FloatVector.fromArray(S, c, ci + 4 * ldc).fma(bv, c40).intoArray(c, ci + 4 * ldc);
                FloatVector.fromArray(S, c, ci + 4 * ldc + VL).fma(bv, c41).intoArray(c, ci + 4 * ldc + VL);
                FloatVector.fromArray(S, c, ci + 5 * ldc).fma(bv, c50).intoArray(c, ci + 5 * ldc);
                FloatVector.fromArray(S, c, ci + 5 * ldc + VL).fma(bv, c51).intoArray(c, ci + 5 * ldc + VL);
            }
            return;
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, VL);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + VL);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + VL);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + VL);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + VL);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + VL);
        for (int r = 0; r < mr; r++) {
            int row = ci + r * ldc;
            int t = r * NR;
            if (beta == 0f) for (int j = 0; j < nr; j++) c[row + j] = tile[t + j];
            else for (int j = 0; j < nr; j++) c[row + j] = tile[t + j] + beta * c[row + j];
        }
    }

    /**
     * Few rows (m <= SMALL_M), columns [j0, j1): streams op(B) once without packing it.
     * Not transposed, each row of B is an axpy into the C rows (kept in L1); transposed, each
     * column of op(B) is a contiguous row of B and each C element a dot product.
     */
    private static void smallM(boolean transA, boolean transB, int m, int j0, int j1, int k, float alpha,
                               float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                               float beta, float[] c, int cOff, int ldc) {
        // The C rows accumulate in place: start them at beta * C (zero when beta == 0, unread).
        scaleC(m, j1 - j0, beta, c, cOff + j0, ldc);
        int sa = transA ? 1 : lda;   // stride between rows of op(A)
        int pa = transA ? lda : 1;   // stride along k in op(A)
        // Two methods, not one with both branches: the JIT compiles each on its own profile. In one
        // method, C2 compiled on the sparse planner's batch-1 GEMVs (B transposed) left the other
        // branch as an uncommon trap; the model's own Dense forward (B not transposed) then hit it,
        // the method was deoptimised, and its batch-1 products ran 30-130x slower in the
        // interpreter and C1 code for seconds until recompiled (the run report timed them there).
        if (!transB) smallMRowsOfB(m, j0, j1, k, alpha, a, aOff, sa, pa, b, bOff, ldb, c, cOff, ldc);
        else smallMColumnsOfB(m, j0, j1, k, alpha, a, aOff, sa, pa, b, bOff, ldb, c, cOff, ldc);
    }

    /**
     * {@link #smallM} with B not transposed, C already scaled by beta: each row of B is an axpy into
     * the C rows. {@code sa} is the stride between rows of op(A), {@code pa} its stride along k.
     */
    private static void smallMRowsOfB(int m, int j0, int j1, int k, float alpha, float[] a, int aOff, int sa, int pa,
                                      float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        // Four rows of B per pass: each C vector is loaded and stored once per four FMAs,
        // and four sequential streams of B keep the prefetchers busy.
        int vEnd = j0 + ((j1 - j0) / VL) * VL;
        int k4 = k & ~3;
        for (int i = 0; i < m; i++) {
            int arow = aOff + i * sa;
            int crow = cOff + i * ldc;
            for (int p = 0; p < k4; p += 4) {
                float a0 = alpha * a[arow + p * pa], a1 = alpha * a[arow + (p + 1) * pa];
                float a2 = alpha * a[arow + (p + 2) * pa], a3 = alpha * a[arow + (p + 3) * pa];
                if (a0 == 0f && a1 == 0f && a2 == 0f && a3 == 0f) continue; // ReLU zeros skip B rows
                FloatVector v0 = FloatVector.broadcast(S, a0), v1 = FloatVector.broadcast(S, a1);
                FloatVector v2 = FloatVector.broadcast(S, a2), v3 = FloatVector.broadcast(S, a3);
                int b0 = bOff + p * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                int j = j0;
                for (; j < vEnd; j += VL) {
                    FloatVector acc = FloatVector.fromArray(S, c, crow + j);
                    acc = FloatVector.fromArray(S, b, b0 + j).fma(v0, acc);
                    acc = FloatVector.fromArray(S, b, b1 + j).fma(v1, acc);
                    acc = FloatVector.fromArray(S, b, b2 + j).fma(v2, acc);
                    acc = FloatVector.fromArray(S, b, b3 + j).fma(v3, acc);
                    acc.intoArray(c, crow + j);
                }
                // tails fused in the same order as the vector lanes, so a column's sum does not depend
                // on whether it falls in the tail (ONNX's light models need bitwise-equal logits)
                for (; j < j1; j++) {
                    float acc = c[crow + j];
                    acc = Math.fma(a0, b[b0 + j], acc);
                    acc = Math.fma(a1, b[b1 + j], acc);
                    acc = Math.fma(a2, b[b2 + j], acc);
                    c[crow + j] = Math.fma(a3, b[b3 + j], acc);
                }
            }
            for (int p = k4; p < k; p++) {
                float av = alpha * a[arow + p * pa];
                if (av == 0f) continue;
                FloatVector v = FloatVector.broadcast(S, av);
                int brow = bOff + p * ldb;
                int j = j0;
                for (; j < vEnd; j += VL)
                    FloatVector.fromArray(S, b, brow + j).fma(v, FloatVector.fromArray(S, c, crow + j)).intoArray(c, crow + j);
                for (; j < j1; j++) c[crow + j] = Math.fma(av, b[brow + j], c[crow + j]);
            }
        }
    }

    /**
     * {@link #smallM} with B transposed, C already scaled by beta: each C element is a dot product of
     * a row of op(A) with a contiguous row of B. {@code sa}, {@code pa} as in {@link #smallMRowsOfB}.
     */
    private static void smallMColumnsOfB(int m, int j0, int j1, int k, float alpha, float[] a, int aOff, int sa, int pa,
                                         float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        int kv = (k / VL) * VL;
        for (int i = 0; i < m; i++) {
            int arow = aOff + i * sa;
            int crow = cOff + i * ldc;
            int j = j0;
            if (pa == 1) {
                // Four columns of op(B) (four contiguous rows of B) per pass: each A vector is
                // loaded once for four independent FMA chains, and consecutive passes read
                // consecutive rows of B, so the whole slab streams from memory in order.
                for (; j + 4 <= j1; j += 4) {
                    int b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                    FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                    int p = 0;
                    for (; p < kv; p += VL) {
                        FloatVector av = FloatVector.fromArray(S, a, arow + p);
                        s0 = av.fma(FloatVector.fromArray(S, b, b0 + p), s0);
                        s1 = av.fma(FloatVector.fromArray(S, b, b1 + p), s1);
                        s2 = av.fma(FloatVector.fromArray(S, b, b2 + p), s2);
                        s3 = av.fma(FloatVector.fromArray(S, b, b3 + p), s3);
                    }
                    float t0 = Lanes.sum(s0);
                    float t1 = Lanes.sum(s1);
                    float t2 = Lanes.sum(s2);
                    float t3 = Lanes.sum(s3);
                    for (; p < k; p++) {
                        float av = a[arow + p];
                        t0 += av * b[b0 + p];
                        t1 += av * b[b1 + p];
                        t2 += av * b[b2 + p];
                        t3 += av * b[b3 + p];
                    }
                    c[crow + j] += alpha * t0;
                    c[crow + j + 1] += alpha * t1;
                    c[crow + j + 2] += alpha * t2;
                    c[crow + j + 3] += alpha * t3;
                }
            }
            for (; j < j1; j++) {
                int brow = bOff + j * ldb;
                FloatVector acc = FloatVector.zero(S);
                int p = 0;
                if (pa == 1) {
                    for (; p < kv; p += VL)
                        acc = FloatVector.fromArray(S, a, arow + p).fma(FloatVector.fromArray(S, b, brow + p), acc);
                }
                float s = Lanes.sum(acc);
                for (; p < k; p++) s += a[arow + p * pa] * b[brow + p];
                c[crow + j] += alpha * s;
            }
        }
    }

    /**
     * C rows [i0, i1) += alpha * A * B^T with A [m, k] and B [n, k] both read in place (C already
     * scaled by beta): blocks of {@link #DOT_ROWS} rows of A and four rows of B, twelve FMA chains
     * sharing their loads. Each C element is summed exactly as {@link #smallMColumnsOfB} sums it
     * (vector lanes over the whole vectors of k, a fixed-tree lane sum, then the tail), which also
     * does the edges, so an element's value does not depend on the block it falls in.
     */
    private static void dotRows(int i0, int i1, int n, int k, float alpha, float[] a, int aOff, int lda,
                                float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        int kv = (k / VL) * VL;
        int i = i0;
        for (; i + DOT_ROWS <= i1; i += DOT_ROWS) {
            int a0 = aOff + i * lda, a1 = a0 + lda, a2 = a1 + lda;
            int c0 = cOff + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                int b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00;
                FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
                FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
                for (int p = 0; p < kv; p += VL) {
                    FloatVector x0 = FloatVector.fromArray(S, a, a0 + p);
                    FloatVector x1 = FloatVector.fromArray(S, a, a1 + p);
                    FloatVector x2 = FloatVector.fromArray(S, a, a2 + p);
                    FloatVector y = FloatVector.fromArray(S, b, b0 + p);
                    s00 = x0.fma(y, s00);
                    s10 = x1.fma(y, s10);
                    s20 = x2.fma(y, s20);
                    y = FloatVector.fromArray(S, b, b1 + p);
                    s01 = x0.fma(y, s01);
                    s11 = x1.fma(y, s11);
                    s21 = x2.fma(y, s21);
                    y = FloatVector.fromArray(S, b, b2 + p);
                    s02 = x0.fma(y, s02);
                    s12 = x1.fma(y, s12);
                    s22 = x2.fma(y, s22);
                    y = FloatVector.fromArray(S, b, b3 + p);
                    s03 = x0.fma(y, s03);
                    s13 = x1.fma(y, s13);
                    s23 = x2.fma(y, s23);
                }
                dotTail(kv, k, alpha, Lanes.sum(s00), a, a0, b, b0, c, c0 + j);
                dotTail(kv, k, alpha, Lanes.sum(s01), a, a0, b, b1, c, c0 + j + 1);
                dotTail(kv, k, alpha, Lanes.sum(s02), a, a0, b, b2, c, c0 + j + 2);
                dotTail(kv, k, alpha, Lanes.sum(s03), a, a0, b, b3, c, c0 + j + 3);
                dotTail(kv, k, alpha, Lanes.sum(s10), a, a1, b, b0, c, c1 + j);
                dotTail(kv, k, alpha, Lanes.sum(s11), a, a1, b, b1, c, c1 + j + 1);
                dotTail(kv, k, alpha, Lanes.sum(s12), a, a1, b, b2, c, c1 + j + 2);
                dotTail(kv, k, alpha, Lanes.sum(s13), a, a1, b, b3, c, c1 + j + 3);
                dotTail(kv, k, alpha, Lanes.sum(s20), a, a2, b, b0, c, c2 + j);
                dotTail(kv, k, alpha, Lanes.sum(s21), a, a2, b, b1, c, c2 + j + 1);
                dotTail(kv, k, alpha, Lanes.sum(s22), a, a2, b, b2, c, c2 + j + 2);
                dotTail(kv, k, alpha, Lanes.sum(s23), a, a2, b, b3, c, c2 + j + 3);
            }
            if (j < n) smallMColumnsOfB(DOT_ROWS, j, n, k, alpha, a, a0, lda, 1, b, bOff, ldb, c, c0, ldc);
        }
        if (i < i1) smallMColumnsOfB(i1 - i, 0, n, k, alpha, a, aOff + i * lda, lda, 1, b, bOff, ldb, c, cOff + i * ldc, ldc);
    }

    /** c[ci] += alpha * (lanes + the scalar tail of the dot product over p in [kv, k)), as smallMColumnsOfB adds it. */
    private static void dotTail(int kv, int k, float alpha, float lanes, float[] a, int arow, float[] b, int brow,
                                float[] c, int ci) {
        float t = lanes;
        for (int p = kv; p < k; p++) t += a[arow + p] * b[brow + p];
        c[ci] += alpha * t;
    }

    /** The scalar specification every faster version is tested against. */
    public static void reference(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += (double) av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = (float) (alpha * s + (beta == 0 ? 0 : beta * c[ci]));
            }
        }
    }
}
