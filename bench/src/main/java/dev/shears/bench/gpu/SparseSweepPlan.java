package dev.shears.bench.gpu;

import dev.shears.core.cuda.sparse.CudaShapeSweep.LtCase;
import dev.shears.core.cuda.sparse.CudaShapeSweep.WeightShape;
import dev.shears.core.nn.Architectures;
import dev.shears.core.nn.Parameter;
import dev.shears.core.tensor.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@link SparseGpuBench} measures (through gpu-core's {@link dev.shears.core.cuda.sparse.CudaShapeSweep}, one shape at a time) (issue 6, GPU half), as data: the layer shapes (square
 * layers of the sweep's sizes, and the fully connected layers of LeNet-300-100, mnist-cnn and
 * VGG-19's classifier), the batch sizes (the dense operand's columns), the sparsities, the
 * Blocked-ELL block size, and the cuSPARSELt 2:4 products. A layer with {@code out} outputs and
 * {@code in} inputs is the product {@code Y[m=out, n=batch] = W[m, k=in] X[k, n]}.
 *
 * @param shapes     layers, in order
 * @param batches    n values
 * @param sparsities unstructured (CSR) and block (Blocked-ELL) sparsity targets
 * @param bellBlock  Blocked-ELL block edge; a layer gets Blocked-ELL rows only when b divides m and k
 * @param lt         2:4 products, each against cuBLAS GemmEx in the same 16-bit type
 */
public record SparseSweepPlan(List<WeightShape> shapes, List<Integer> batches, List<Double> sparsities, int bellBlock, List<LtCase> lt) {

    public static final List<Integer> SIZES = List.of(1024, 2048, 4096, 8192);
    public static final List<Integer> BATCHES = List.of(1, 16, 64, 256);
    public static final List<Double> SPARSITIES = List.of(0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99);

    public SparseSweepPlan {
        shapes = List.copyOf(shapes);
        batches = List.copyOf(batches);
        sparsities = List.copyOf(sparsities);
        lt = List.copyOf(lt);
        for (double s : sparsities) if (!(s > 0 && s < 1)) throw new IllegalArgumentException("sparsity " + s + " outside (0, 1)");
        for (int n : batches) if (n < 1) throw new IllegalArgumentException("batch " + n + " < 1");
        if (bellBlock < 1) throw new IllegalArgumentException("Blocked-ELL block " + bellBlock + " < 1");
    }

    /** The full sweep, or with {@code quick} a subset that keeps every kind of row (sizes 1024 and 4096, batches 1 and 64). */
    public static SparseSweepPlan standard(List<Integer> sizes, List<Integer> batches, List<Double> sparsities, boolean quick) {
        List<WeightShape> shapes = new ArrayList<>();
        for (int s : sizes) shapes.add(new WeightShape("square-" + s, s, s));
        shapes.addAll(denseLayers("lenet-300-100"));
        shapes.addAll(denseLayers("mnist-cnn"));
        if (!quick)
            for (LayerShapes.Layer l : LayerShapes.vgg19())
                if (l.dims().length == 2) shapes.add(new WeightShape("vgg19." + l.name(), (int) l.dims()[0], (int) l.dims()[1]));
        List<LtCase> lt = new ArrayList<>();
        for (String t : List.of("fp16", "bf16")) {
            lt.add(new LtCase(8192, 8192, 8192, t));
            if (!quick) {
                lt.add(new LtCase(4096, 4096, 4096, t));
                lt.add(new LtCase(4096, 256, 4096, t));
            }
        }
        return new SparseSweepPlan(shapes, batches, sparsities, 16, lt);
    }

    /** Default sizes, batches and sparsities ({@code quick}: 1024 and 4096; 1 and 64; 0.5, 0.9, 0.95, 0.99). */
    public static SparseSweepPlan standard(boolean quick) {
        return quick ? standard(List.of(1024, 4096), List.of(1, 64), List.of(0.5, 0.9, 0.95, 0.99), true)
                : standard(SIZES, BATCHES, SPARSITIES, false);
    }

    /** The Dense layers of a built-in architecture on 1x28x28 inputs, 10 classes: kernel [in, out] -> m = out, k = in. */
    static List<WeightShape> denseLayers(String arch) {
        List<WeightShape> out = new ArrayList<>();
        for (Parameter p : Architectures.create(arch, Shape.of(1, 28, 28), 10).parameters())
            if (p.prunableByDefault() && p.shape().rank() == 2)
                out.add(new WeightShape(arch + "." + p.name(), p.shape().dim(1), p.shape().dim(0)));
        return out;
    }

    /** Whether Blocked-ELL rows are measured for {@code s}: cuSPARSE's Blocked-ELL tiles the whole matrix in b x b blocks. */
    public boolean bellApplies(WeightShape s) { return s.bellApplies(bellBlock); }

    /** Timed operations in the sweep (dense fp32 and tf32 per shape and batch, CSR SpMM, SpMV at n = 1, Blocked-ELL, and 2:4 pairs). */
    public int timings() {
        int t = 0;
        for (WeightShape s : shapes)
            for (int n : batches) {
                t += 2;
                int perSparsity = 1 + (n == 1 ? 1 : 0) + (bellApplies(s) ? 1 : 0);
                t += perSparsity * sparsities.size();
            }
        return t + 2 * lt.size();
    }
}
