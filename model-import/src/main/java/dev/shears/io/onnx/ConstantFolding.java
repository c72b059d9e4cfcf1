package dev.shears.io.onnx;

import dev.shears.core.util.HeapBudget;

import java.util.Arrays;
import java.util.List;

/**
 * The ONNX ops that compute shapes, evaluated on constants at import time: Gather, Unsqueeze,
 * Squeeze, Concat, Cast and the four arithmetic ops. Newer PyTorch exporters build a Reshape's
 * target from {@code Shape -> Gather -> Unsqueeze -> Concat}; every shape in the IR is static, so
 * these sub-graphs fold to constants. The functions are pure; a malformed input raises
 * {@link IllegalArgumentException} with the reason, which the caller wraps with the node's name.
 * Semantics follow the ONNX operator specification (onnx/docs/Operators.md).
 */
final class ConstantFolding {
    private ConstantFolding() {}

    /** An INT64 vector. */
    static TensorData int64Vector(long... v) {
        return TensorData.ofLongs(new long[]{v.length}, v);
    }

    /** Gather along {@code axis}: output dims = data[:axis] + indices + data[axis+1:]; negative indices count from the end. */
    static TensorData gather(TensorData data, TensorData indices, int axis) {
        long[] dd = data.dims();
        if (dd.length == 0) throw new IllegalArgumentException("Gather of a scalar");
        long[] idx = indices.asLongs();
        long n = dd[axis];
        long[] outDims = new long[dd.length - 1 + indices.rank()];
        System.arraycopy(dd, 0, outDims, 0, axis);
        System.arraycopy(indices.dims(), 0, outDims, axis, indices.rank());
        System.arraycopy(dd, axis + 1, outDims, axis + indices.rank(), dd.length - axis - 1);
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= dd[i];
        for (int i = axis + 1; i < dd.length; i++) inner *= dd[i];
        int count = Math.toIntExact(outer * idx.length * inner);
        float[] fo = data.isFloat() ? new float[count] : null;
        long[] lo = data.isFloat() ? null : new long[count];
        int o = 0;
        for (long a = 0; a < outer; a++) {
            for (long k : idx) {
                long j = k < 0 ? k + n : k;
                if (j < 0 || j >= n) throw new IllegalArgumentException("index " + k + " out of range for axis " + axis + " of size " + n);
                int src = (int) ((a * n + j) * inner);
                for (int b = 0; b < inner; b++, o++) {
                    if (fo != null) fo[o] = data.floats()[src + b]; else lo[o] = data.longs()[src + b];
                }
            }
        }
        return new TensorData(outDims, fo, lo);
    }

    /** The dims after inserting size-1 axes at {@code axes} (already normalised against the output rank). */
    static long[] unsqueezeDims(long[] in, long[] axes) {
        int r = in.length + axes.length;
        boolean[] inserted = new boolean[r];
        for (long a : axes) {
            if (a < 0 || a >= r) throw new IllegalArgumentException("axis " + a + " out of range for output rank " + r);
            if (inserted[(int) a]) throw new IllegalArgumentException("axis " + a + " is listed twice");
            inserted[(int) a] = true;
        }
        long[] out = new long[r];
        for (int i = 0, j = 0; i < r; i++) out[i] = inserted[i] ? 1 : in[j++];
        return out;
    }

    /** The dims after removing the size-1 axes {@code axes} (normalised against the input rank), or every size-1 axis when null. */
    static long[] squeezeDims(long[] in, long[] axes) {
        boolean[] drop = new boolean[in.length];
        if (axes == null) {
            for (int i = 0; i < in.length; i++) drop[i] = in[i] == 1;
        } else {
            for (long a : axes) {
                if (a < 0 || a >= in.length) throw new IllegalArgumentException("axis " + a + " out of range for rank " + in.length);
                if (in[(int) a] != 1) throw new IllegalArgumentException("axis " + a + " has size " + in[(int) a] + ", not 1");
                drop[(int) a] = true;
            }
        }
        return java.util.stream.IntStream.range(0, in.length).filter(i -> !drop[i]).mapToLong(i -> in[i]).toArray();
    }

    /** Concat along {@code axis} (normalised); all parts of one rank and element kind, equal off the axis. */
    static TensorData concat(List<TensorData> parts, int axis) {
        TensorData first = parts.get(0);
        long[] outDims = first.dims().clone();
        outDims[axis] = 0;
        for (TensorData p : parts) {
            if (p.rank() != first.rank()) throw new IllegalArgumentException("inputs of ranks " + first.rank() + " and " + p.rank());
            if (p.isFloat() != first.isFloat()) throw new IllegalArgumentException("inputs of different element types");
            for (int i = 0; i < p.rank(); i++)
                if (i != axis && p.dims()[i] != first.dims()[i])
                    throw new IllegalArgumentException("input dims " + Arrays.toString(p.dims()) + " and " + Arrays.toString(first.dims())
                            + " differ off axis " + axis);
            outDims[axis] += p.dims()[axis];
        }
        long outer = 1;
        for (int i = 0; i < axis; i++) outer *= outDims[i];
        int count = Math.toIntExact(TensorData.count(outDims));
        float[] fo = first.isFloat() ? new float[count] : null;
        long[] lo = first.isFloat() ? null : new long[count];
        int o = 0;
        for (long a = 0; a < outer; a++) {
            for (TensorData p : parts) {
                int block = (int) (p.size() / Math.max(outer, 1));
                int src = (int) (a * block);
                if (fo != null) System.arraycopy(p.floats(), src, fo, o, block); else System.arraycopy(p.longs(), src, lo, o, block);
                o += block;
            }
        }
        return new TensorData(outDims, fo, lo);
    }

    /** Cast to an ONNX element type: floating types give floats, integer and bool types longs (float to int truncates toward zero). */
    static TensorData cast(TensorData t, int to) {
        String name = OnnxTensors.typeName(to);
        switch (name) {
            case "FLOAT", "DOUBLE", "FLOAT16", "BFLOAT16" -> {
                return TensorData.ofFloats(t.dims(), t.asFloats());
            }
            case "INT64", "INT32", "INT16", "INT8", "UINT64", "UINT32", "UINT16", "UINT8", "BOOL" -> {
                long[] l = new long[t.size()];
                for (int i = 0; i < l.length; i++) {
                    if (name.equals("BOOL")) l[i] = (t.isFloat() ? t.floats()[i] != 0f : t.longs()[i] != 0) ? 1 : 0;
                    else l[i] = t.isFloat() ? (long) t.floats()[i] : t.longs()[i];
                }
                return TensorData.ofLongs(t.dims(), l);
            }
            default -> throw new IllegalArgumentException("Cast to " + name + " is not supported (to FLOAT, DOUBLE, FLOAT16, integer or BOOL is)");
        }
    }

    /** Element-wise Add, Sub, Mul or Div with numpy broadcasting; integer Div truncates toward zero. */
    static TensorData arithmetic(String op, TensorData a, TensorData b) {
        if (a.isFloat() != b.isFloat()) throw new IllegalArgumentException("operands of different element types (" + a + ", " + b + ")");
        int r = Math.max(a.rank(), b.rank());
        long[] ad = rightAligned(a.dims(), r), bd = rightAligned(b.dims(), r), od = new long[r];
        for (int i = 0; i < r; i++) {
            if (ad[i] != bd[i] && ad[i] != 1 && bd[i] != 1)
                throw new IllegalArgumentException("dims " + Arrays.toString(a.dims()) + " and " + Arrays.toString(b.dims()) + " do not broadcast");
            od[i] = ad[i] == 1 ? bd[i] : ad[i];
        }
        int n = Math.toIntExact(TensorData.count(od));
        // two small constants can broadcast to a huge one ([46340, 1] + [1, 46340]: 8 GB): check before allocating
        String tooLarge = HeapBudget.shortfall((long) n * (a.isFloat() ? Float.BYTES : Long.BYTES), "the broadcast result " + Arrays.toString(od));
        if (tooLarge != null) throw new IllegalArgumentException(tooLarge);
        float[] fo = a.isFloat() ? new float[n] : null;
        long[] lo = a.isFloat() ? null : new long[n];
        int[] idx = new int[r];
        for (int o = 0; o < n; o++) {
            int ia = flat(idx, ad), ib = flat(idx, bd);
            if (fo != null) {
                float x = a.floats()[ia], y = b.floats()[ib];
                fo[o] = switch (op) { case "Add" -> x + y; case "Sub" -> x - y; case "Mul" -> x * y; default -> x / y; };
            } else {
                long x = a.longs()[ia], y = b.longs()[ib];
                if (op.equals("Div") && y == 0) throw new IllegalArgumentException("integer division by zero");
                lo[o] = switch (op) { case "Add" -> x + y; case "Sub" -> x - y; case "Mul" -> x * y; default -> x / y; };
            }
            for (int i = r - 1; i >= 0; i--) { // odometer over the output index
                if (++idx[i] < od[i]) break;
                idx[i] = 0;
            }
        }
        return new TensorData(od, fo, lo);
    }

    private static long[] rightAligned(long[] dims, int rank) {
        long[] d = new long[rank];
        Arrays.fill(d, 1);
        System.arraycopy(dims, 0, d, rank - dims.length, dims.length);
        return d;
    }

    /** The row-major offset of an output index in an operand of (broadcast) dims {@code d}. */
    private static int flat(int[] idx, long[] d) {
        long off = 0;
        for (int i = 0; i < d.length; i++) off = off * d[i] + (d[i] == 1 ? 0 : idx[i]);
        return (int) off;
    }
}
