package dev.shears.core.cuda.sparse;

import dev.shears.core.cpu.HalfConversion;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.CudaTensor;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;
import dev.shears.kernels.HalfKernels;
import dev.shears.nativebind.CusparseLt;
import dev.shears.nativebind.StructuredMatmul;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A 2:4 weight matrix A [rows, cols] run by cuSPARSELt ({@link StructuredMatmul}) in FP16 or BF16
 * with FP32 accumulation: the reduced-precision candidate of {@link CudaSparsePlanner}, chosen only
 * under an explicit {@link Precision} opt-in.
 *
 * <p>Which operand is structured. cuSPARSELt prunes and compresses the structured operand along
 * the reduction axis k, and {@link StructuredMatmul} takes A [m, k] structured, all matrices
 * row-major and untransposed, C = D. Shears' Dense kernels are 2:4 along their input axis (for
 * each output, inputs 4g..4g+3: pruning's NmLayout), i.e. along the rows of A = W^T [out, in], so
 * A = W^T with m = out, k = in is the structured operand as it stands, and the layer's product is
 * computed transposed: D [out, n] = A [out, in] X^T [in, n]. The activations X [n, in] are
 * row-major, so X^T and Y = D^T are transposes; the FP32 <-> 16-bit conversion kernels
 * (half_convert.cu) read and write transposed as they convert, so the transposes cost no extra
 * pass. The other formulation (Y [n, out] = X [n, in] W [in, out] with B = W structured) would need
 * W's 2:4 groups to run along k = in of a [k, n] row-major B, i.e. down its columns, and a
 * StructuredMatmul with B structured, which Shears does not have; the conversion must run either
 * way, so it buys nothing.
 *
 * <p>Padding. cuSPARSELt takes a structured 16-bit matrix with rows and columns in multiples of 16
 * and dense ones in multiples of 8 ({@link StructuredMatmul}), so A is zero-padded to
 * [ceil16(out), ceil16(in)] once at construction, and each batch to [ceil16(in), ceil8(n)] by the
 * conversion kernel; the padding adds zeros to every sum, and the output conversion reads only
 * the [out, n] corner. A zero-padded group of four holds at most the two weights it had, so the
 * padded A is still 2:4 (cuSPARSELt's own prune check confirms it on the device).
 *
 * <p>A plan per padded batch width: the one planned for, used for every batch up to that size
 * (the last, smaller batch of an evaluation pads more columns), and another built on first use
 * for a larger batch. Each holds its compressed A, its 16-bit B and D buffers and its workspace.
 * Every plan is autotuned once, when it is built: {@link StructuredMatmul#search} runs every kernel
 * configuration of cuSPARSELt on the zero-filled B ({@link #SEARCH_ITERATIONS} launches each) and
 * keeps the fastest, as the benchmarks' {@link CudaShapeSweep#structured} does with the same
 * launches per configuration, instead of the library's default configuration. The
 * planned width's plan is built at construction; one for a wider batch on first use, and it
 * searches its own configuration too: the best kernel for a wider product is not the planned
 * width's (a configuration is chosen per m, n, k), and keeping the default one left a larger
 * evaluation batch on an untuned kernel. Building a plan reads the prune check's
 * flag back to the host (a synchronous copy), so no plan is ever built inside a stream capture,
 * where the search could not run either.
 * {@link #multiplyT} (Y [rows, n] = A X [cols, n]) runs the same product untransposed.
 */
public final class CudaStructuredMatrix extends CudaSparseMatrix {
    private final CudaBackend backend;
    private final CusparseRuntime rt;
    private final Precision precision;
    /** rows and cols padded to cuSPARSELt's multiples */
    private final int mPad, kPad;
    /** A [mPad, kPad] as 16-bit values on the host, kept to compress A again for a wider batch */
    private final short[] padded;
    /** the plan built for each padded batch width (ascending) */
    private final TreeMap<Integer, Plan> plans = new TreeMap<>();
    private final int plannedWidth;
    private boolean closed;

    /**
     * Launches per kernel configuration in cuSPARSELt's search (CUSPARSELT_MATMUL_SEARCH_ITERATIONS),
     * set explicitly rather than left to the library's default (5 in 0.6-0.8, which a release may
     * change): twice that, so that each configuration's time is an average of more launches where
     * one launch of a small layer takes microseconds and a single slow launch would decide. A
     * search runs once per plan, so the cost is paid at planning only.
     */
    public static final int SEARCH_ITERATIONS = 10;

    /** One cuSPARSELt product for batches up to {@code width}: its compressed, autotuned A and its 16-bit B and D buffers. */
    private record Plan(StructuredMatmul mm, StructuredOperand a, CudaTensor b, CudaTensor d) {
        void close() {
            try {
                mm.close();
            } finally {
                a.close();
                b.close();
                d.close();
            }
        }
    }

    /** The smallest multiple of {@code m} at least {@code v} (cuSPARSELt pads M and K to 16, the batch to 8). */
    public static int roundUp(int v, int m) { return Math.multiplyExact((v + m - 1) / m, m); }

    /**
     * Why a [rows, cols] A (row-major host values {@code a}) cannot be a 2:4 product at
     * {@code precision}, or null: it is not 2:4 along its rows, or a weight does not fit FP16.
     */
    public static String unsuitable(float[] a, int rows, int cols, Precision precision) {
        for (int r = 0; r < rows; r++)
            for (int c0 = 0; c0 < cols; c0 += 4) {
                int nz = 0;
                for (int c = c0; c < Math.min(cols, c0 + 4); c++) if (a[r * cols + c] != 0f) nz++;
                if (nz > 2)
                    return "not 2:4: output " + r + ", inputs " + c0 + ".." + (Math.min(cols, c0 + 4) - 1) + " hold " + nz
                            + " nonzeros (prune with a 2:4 pattern to use cuSPARSELt)";
            }
        if (precision == Precision.FP16)
            for (int i = 0; i < a.length; i++)
                if (Math.abs(a[i]) > HalfConversion.FP16_MAX)
                    return String.format(Locale.ROOT, "weight %d (%g) is outside FP16's range (+-65504); use --precision bf16", i, a[i]);
        return null;
    }

    /**
     * Converts A [rows, cols] (row-major host values, 2:4 along rows) to {@code precision}, pads
     * it, checks it with cuSPARSELt's prune check and compresses it for batches of up to
     * {@code plannedBatch}.
     */
    public CudaStructuredMatrix(CusparseRuntime rt, float[] a, int rows, int cols, Precision precision, int plannedBatch) {
        super(rows, cols);
        if (precision == Precision.FP32) throw new IllegalArgumentException("a 2:4 cuSPARSELt matrix needs fp16 or bf16, got fp32");
        String why = unsuitable(a, rows, cols, precision);
        if (why != null) throw new IllegalArgumentException(why);
        this.backend = rt.backend();
        this.rt = rt;
        this.precision = precision;
        this.mPad = roundUp(rows, 16);
        this.kPad = roundUp(cols, 16);
        this.padded = HalfConversion.toHalf(a, 0, rows, cols, cols, false, mPad, kPad, precision.isBf16());
        this.plannedWidth = roundUp(plannedBatch, 8);
        plan(plannedWidth);
    }

    @Override public String format() { return "2:4-lt " + precision.id(); }

    /** e.g. {@code cusparselt-spmma-fp16-config3}: the kernel configuration the search chose for the planned batch. */
    @Override public String kernel() { return "cusparselt-spmma-" + precision.id() + "-config" + algConfigId(); }

    /** The cuSPARSELt kernel configuration the planned batch runs, as its search chose it ({@link StructuredMatmul#configId}). */
    public int algConfigId() { return plans.get(plannedWidth).a().configId(); }

    /**
     * The kernel configuration a batch of {@code n} runs, as the search of its plan chose it; -1
     * when no plan covers {@code n} yet (one is built on the first product at that batch).
     */
    public int algConfigId(int n) {
        Map.Entry<Integer, Plan> e = plans.ceilingEntry(n);
        return e == null ? -1 : e.getValue().a().configId();
    }

    /** Launches per configuration that the search of the planned batch's plan ran ({@link #SEARCH_ITERATIONS}, read back from cuSPARSELt). */
    public int searchIterations() { return plans.get(plannedWidth).mm().searchIterations(); }

    /** The compressed A of the planned batch width as cuSPARSELt sizes it (16-bit kept values plus its metadata, padding included). */
    @Override public long storageBytes() { return plans.get(plannedWidth).a().compressed().bytes(); }

    public Precision precision() { return precision; }

    /** The padded A's shape {mPad, kPad}. */
    public int[] paddedShape() { return new int[] {mPad, kPad}; }

    /** The plan for {@code width}, built and autotuned on first use. */
    private Plan plan(int width) {
        Plan p = plans.get(width);
        if (p != null) return p;
        StructuredMatmul mm = new StructuredMatmul(rt.lt(), mPad, width, kPad, precision.cudaType(), CusparseLt.CUSPARSE_COMPUTE_32F,
                SEARCH_ITERATIONS);
        CudaTensor dense = null, b = null, d = null;
        StructuredOperand a = null;
        try {
            byte[] bytes = new byte[2 * padded.length];
            for (int i = 0; i < padded.length; i++) {
                bytes[2 * i] = (byte) padded[i];
                bytes[2 * i + 1] = (byte) (padded[i] >> 8);
            }
            dense = (CudaTensor) backend.uploadBytes(bytes, Shape.of(bytes.length));
            b = StructuredOperand.bytesOnDevice(backend, 2L * kPad * width); // zeros, set on the device (cuMemsetD8Async), nothing uploaded
            d = StructuredOperand.bytesOnDevice(backend, 2L * mPad * width);
            a = StructuredOperand.prepare(backend, mm, dense.pointer(), b.pointer(), d.pointer(),
                    () -> "cuSPARSELt's prune check refuses the padded " + mPad + " x " + kPad + " " + precision.id()
                            + " A of a " + rows + " x " + cols + " layer although every group of 4 holds at most 2 nonzeros on the host");
            p = new Plan(mm, a, b, d);
            plans.put(width, p);
            return p;
        } catch (RuntimeException | Error e) {
            try {
                mm.close();
            } catch (RuntimeException s) { e.addSuppressed(s); }
            if (a != null) a.close();
            for (CudaTensor t : new CudaTensor[] {b, d}) if (t != null) t.close();
            throw e;
        } finally {
            if (dense != null) dense.close(); // freed in stream order, after the compression that read it
        }
    }

    /** The plan for a batch of {@code n}: the planned one when n fits it, else one for ceil8(n). */
    private Plan planFor(int n) {
        if (closed) throw new IllegalStateException(format() + " [" + rows + ", " + cols + "] is closed");
        Map.Entry<Integer, Plan> e = plans.ceilingEntry(n);
        return e != null ? e.getValue() : plan(roundUp(n, 8));
    }

    private int width(Plan p) { return p.mm().n(); }

    @Override public void multiply(Tensor x, int n, Tensor y) {
        checkMultiply(x, n, y);
        Plan p = planFor(n);
        HalfKernels h = backend.halfKernels();
        boolean bf16 = precision.isBf16();
        int w = width(p);
        // B [kPad, w] = X^T, X [n, cols] row-major: transposed and zero-padded as it converts
        h.toHalf(cuda(x, "x").pointer(), p.b().pointer(), cols, n, cols, true, kPad, w, bf16);
        p.mm().matmul(p.a().compressed().pointer(), p.b().pointer(), p.d().pointer(), p.a().workspace().pointer(), backend.stream());
        // Y [n, rows] = D^T, the [rows, n] corner of D [mPad, w]
        h.toFloat(p.d().pointer(), cuda(y, "y").pointer(), n, rows, w, true, bf16);
    }

    @Override public void multiplyT(Tensor x, long xOffset, int n, Tensor y, long yOffset) {
        checkMultiplyT(x, xOffset, n, y, yOffset);
        Plan p = planFor(n);
        HalfKernels h = backend.halfKernels();
        boolean bf16 = precision.isBf16();
        int w = width(p);
        h.toHalf(cuda(x, "x").pointer(xOffset), p.b().pointer(), cols, n, n, false, kPad, w, bf16);
        p.mm().matmul(p.a().compressed().pointer(), p.b().pointer(), p.d().pointer(), p.a().workspace().pointer(), backend.stream());
        h.toFloat(p.d().pointer(), cuda(y, "y").pointer(yOffset), rows, n, w, false, bf16);
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        RuntimeException first = null;
        for (Plan p : plans.values()) {
            try {
                p.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        plans.clear();
        if (first != null) throw first;
    }
}
