package dev.shears.core.nn;

import dev.shears.core.backend.Backend;
import dev.shears.core.tensor.DType;
import dev.shears.core.tensor.Shape;
import dev.shears.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The model IR: a DAG of named layers in topological order, with named inputs and one output.
 * Build it with {@link #builder()}, then {@link #bind} it to a backend, which allocates the
 * parameters (initialised with a seeded generator) and their gradients.
 */
public final class Model {

    /** A graph input: a name and its per-sample shape. */
    public record Input(String name, Shape shape) {}

    /** A layer and the names of the nodes (or graph inputs) it reads. */
    public record Node(Layer layer, List<String> inputs) {
        public String name() { return layer.name(); }
    }

    private final List<Input> inputs;
    private final List<Node> nodes;
    private final String output;
    private final Map<String, Shape> shapes; // per-sample shape of every input and node output
    /** nodes whose output gradient is needed: a trainable parameter in them or upstream */
    private final java.util.Set<String> requiresGrad = new java.util.HashSet<>();
    /**
     * Per node read by more than one layer: the buffer its gradients are summed into during
     * backward, [N, ...its per-sample shape], kept across passes so a training step allocates
     * nothing (on CUDA a fresh one per step would pile up until the tensor cleaner ran).
     */
    private final Map<String, Tensor> fanOutGrads = new HashMap<>();
    private Backend backend;
    /**
     * What each output means, output i named {@code classNames.get(i)}: the sorted class folder names
     * of the image-folder data set the model was trained on, or the built-in Fashion-MNIST's names in
     * label order (see {@link #setClassNames}); empty when unknown (built-in architectures before
     * training, IDX/NumPy data, files that do not say).
     */
    private List<String> classNames = List.of();

    private Model(List<Input> inputs, List<Node> nodes, String output) {
        this.inputs = List.copyOf(inputs);
        this.nodes = List.copyOf(nodes);
        this.output = output;
        this.shapes = new LinkedHashMap<>();
        for (Input in : inputs) shapes.put(in.name(), in.shape());
        for (Node n : nodes) {
            List<Shape> ins = new ArrayList<>();
            for (String src : n.inputs()) {
                Shape s = shapes.get(src);
                if (s == null) throw new IllegalArgumentException("layer '" + n.name() + "' reads '" + src + "', which is not defined before it");
                ins.add(s);
            }
            int arity = n.layer().arity();
            if (arity >= 0 && arity != ins.size())
                throw new IllegalArgumentException("layer '" + n.name() + "' (" + n.layer().type() + ") takes " + arity + " input(s), got " + ins.size());
            if (shapes.containsKey(n.name())) throw new IllegalArgumentException("duplicate layer name '" + n.name() + "'");
            try {
                shapes.put(n.name(), n.layer().outputShape(ins));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("layer '" + n.name() + "' (" + n.layer().type() + "): " + e.getMessage(), e);
            }
        }
        if (!shapes.containsKey(output)) throw new IllegalArgumentException("output '" + output + "' is not a layer of the model");
        // Backward only needs the nodes with a trainable parameter in them or upstream: the input
        // gradient of the first weight layer (e.g. 128x784 for LeNet-300-100) is never computed.
        for (Node n : nodes) {
            boolean req = n.layer().parameters().stream().anyMatch(Parameter::trainable);
            for (String src : n.inputs()) req |= requiresGrad.contains(src);
            if (req) requiresGrad.add(n.name());
        }
    }

    public static Builder builder() { return new Builder(); }

    public List<Input> inputs() { return inputs; }
    public List<Node> nodes() { return nodes; }
    public String outputName() { return output; }
    /** Per-sample shape of a node's output or of a graph input. */
    public Shape shapeOf(String name) { return shapes.get(name); }
    public Shape outputShape() { return shapes.get(output); }
    public Backend backend() { return backend; }

    /** The class name of each output, in output order; empty when the model does not know them. */
    public List<String> classNames() { return classNames; }

    /**
     * Names the model's outputs: {@code names.get(i)} is what output i means. At most one name per
     * output (a model with more outputs than its training set had classes names the first ones),
     * none blank, none twice; an empty list forgets them.
     *
     * @throws IllegalArgumentException naming the offending name
     */
    public Model setClassNames(List<String> names) {
        List<String> copy = List.copyOf(names);
        long outputs = outputShape().size();
        if (copy.size() > outputs)
            throw new IllegalArgumentException(copy.size() + " class names for a model with " + outputs + " outputs");
        Set<String> seen = new HashSet<>();
        for (String n : copy) {
            if (n.isBlank()) throw new IllegalArgumentException("a blank class name among " + copy);
            if (!seen.add(n)) throw new IllegalArgumentException("class name '" + n + "' given twice");
        }
        this.classNames = copy;
        return this;
    }

    public List<Layer> layers() {
        List<Layer> out = new ArrayList<>();
        for (Node n : nodes) out.add(n.layer());
        return out;
    }

    public Layer layer(String name) {
        for (Node n : nodes) if (n.name().equals(name)) return n.layer();
        throw new IllegalArgumentException("no layer named '" + name + "'");
    }

    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        for (Node n : nodes) out.addAll(n.layer().parameters());
        return out;
    }

    public Parameter parameter(String name) {
        for (Parameter p : parameters()) if (p.name().equals(name)) return p;
        throw new IllegalArgumentException("no parameter named '" + name + "'");
    }

    /** Total stored weights, trainable or not (as Keras counts total params). */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) n += p.shape().size();
        return n;
    }

    /**
     * Allocates every parameter on {@code backend}: kernels Glorot-uniform (Keras' default),
     * biases, betas, running means, slopes and constants zero, gammas and running variances one.
     * Parameters that already hold values on another backend are moved (copied) instead.
     */
    public Model bind(Backend backend, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (Parameter p : parameters()) {
            Tensor old = p.value();
            float[] host;
            if (old != null) {
                host = old.backend().download(old);
            } else {
                host = initialValues(p, rng);
            }
            Tensor oldMask = p.mask(), oldGrad = p.grad();
            p.setValue(backend.upload(host, p.shape()));
            p.setGrad(p.trainable() ? backend.allocate(p.shape(), DType.FLOAT32) : null);
            if (oldMask != null) p.setMask(backend.uploadBytes(oldMask.backend().downloadBytes(oldMask), p.shape()));
            // the replaced tensors are owned by this parameter alone: release them now rather than
            // leaving device memory to a cleaner
            for (Tensor t : new Tensor[]{old, oldGrad, oldMask}) if (t != null) t.close();
        }
        this.backend = backend;
        return this;
    }

    private static float[] initialValues(Parameter p, SplittableRandom rng) {
        float[] v = new float[p.shape().intSize()];
        switch (p.role()) {
            case KERNEL -> {
                Shape s = p.shape();
                long receptive = s.rank() > 2 ? s.sizeFrom(2) : 1;
                // Dense kernels are [in, out]; convolution kernels [out, in, kh, kw].
                long fanIn = s.rank() == 2 ? s.dim(0) : s.dim(1) * receptive;
                long fanOut = s.rank() == 2 ? s.dim(1) : s.dim(0) * receptive;
                double limit = Math.sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
            }
            case GAMMA, RUNNING_VAR -> java.util.Arrays.fill(v, 1f);
            case BIAS, BETA, RUNNING_MEAN, SLOPE, CONSTANT -> { }
        }
        return v;
    }

    /** Runs the graph on a batch; the result may be reused by the next call. */
    public Tensor forward(ExecContext ctx, List<Tensor> batchInputs) {
        if (batchInputs.size() != inputs.size())
            throw new IllegalArgumentException("model takes " + inputs.size() + " input(s), got " + batchInputs.size());
        return forwardUntil(ctx, batchInputs, output);
    }

    public Tensor forward(ExecContext ctx, Tensor batchInput) { return forward(ctx, List.of(batchInput)); }

    /** Runs the graph up to and including node {@code last} and returns that node's output. */
    public Tensor forwardUntil(ExecContext ctx, List<Tensor> batchInputs, String last) {
        return forwardUntil(ctx, batchInputs, last, (node, ins) -> null);
    }

    /**
     * As {@link #forwardUntil(ExecContext, List, String)}, with some nodes computed another way:
     * {@code substitute} gets each node and its inputs and returns its output, or null to run the
     * node's own layer (how planned sparse inference swaps in its formats).
     */
    public Tensor forwardUntil(ExecContext ctx, List<Tensor> batchInputs, String last,
                               java.util.function.BiFunction<Node, List<Tensor>, Tensor> substitute) {
        requireBound();
        Map<String, Tensor> values = new HashMap<>();
        for (int i = 0; i < inputs.size(); i++) values.put(inputs.get(i).name(), batchInputs.get(i));
        for (Node n : nodes) {
            List<Tensor> ins = new ArrayList<>(n.inputs().size());
            for (String src : n.inputs()) ins.add(values.get(src));
            Tensor out = substitute.apply(n, ins);
            values.put(n.name(), out != null ? out : n.layer().forward(ctx, ins));
            if (n.name().equals(last)) return values.get(last);
        }
        if (values.containsKey(last)) return values.get(last);
        throw new IllegalArgumentException("no node named '" + last + "'");
    }

    /**
     * Back-propagates dLoss/dOutput through the last forward pass, accumulating every trainable
     * parameter's gradient (call {@link #zeroGrad()} first). Input gradients are not computed.
     */
    public void backward(ExecContext ctx, Tensor gradOutput) {
        backwardFrom(ctx, gradOutput, output);
    }

    /**
     * Back-propagates dLoss/d(output of node {@code from}) through the last forward pass (which
     * must have reached that node), e.g. from the logits under a final Softmax; nodes after
     * {@code from} are skipped. Accumulates parameter gradients like {@link #backward}.
     */
    public void backwardFrom(ExecContext ctx, Tensor gradOutput, String from) {
        requireBound();
        if (!shapes.containsKey(from)) throw new IllegalArgumentException("no node named '" + from + "'");
        Map<String, Tensor> grads = new HashMap<>();
        Map<String, Boolean> owned = new HashMap<>(); // whether grads.get(x) is a buffer we may add into
        grads.put(from, gradOutput);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            Tensor g = grads.remove(n.name());
            if (g == null) continue; // does not reach the output
            if (!requiresGrad.contains(n.name())) continue; // nothing trainable here or upstream
            boolean needInput = false;
            for (String src : n.inputs()) if (requiresGrad.contains(src)) needInput = true;
            List<Tensor> gin = n.layer().backward(ctx, g, needInput);
            for (int j = 0; j < n.inputs().size(); j++) {
                String src = n.inputs().get(j);
                if (!requiresGrad.contains(src)) continue; // a graph input, or a node with nothing trainable upstream
                Tensor gj = gin.get(j);
                Tensor prev = grads.get(src);
                if (prev == null) {
                    grads.put(src, gj);
                    owned.put(src, false);
                } else {
                    // fan-out: sum into a buffer of our own (layers may reuse the tensors they return)
                    Tensor acc = owned.get(src) ? prev : fanOutBuffer(ctx.backend(), src, prev.shape());
                    if (!owned.get(src)) ctx.backend().copy(prev, acc);
                    ctx.backend().add(acc, gj, acc);
                    grads.put(src, acc);
                    owned.put(src, true);
                }
            }
        }
    }

    /** The reusable gradient-sum buffer of node {@code name}, reallocated when the backend or shape changes. */
    private Tensor fanOutBuffer(Backend b, String name, Shape shape) {
        Tensor t = fanOutGrads.get(name);
        if (t != null && t.backend() == b && t.dtype() == DType.FLOAT32 && t.shape().equals(shape)) return t;
        if (t != null && t.backend() == b) t.close(); // another backend's may already be closed: leave it to that backend
        t = b.allocate(shape, DType.FLOAT32);
        fanOutGrads.put(name, t);
        return t;
    }

    /** Sets every gradient to zero. */
    public void zeroGrad() {
        for (Parameter p : parameters()) if (p.grad() != null) backend.fill(p.grad(), 0f);
    }

    private void requireBound() {
        if (backend == null) throw new IllegalStateException("model is not bound to a backend: call bind(backend, seed)");
    }

    /** Builds a model; {@link #then} chains a layer onto the previous node (sequential models). */
    public static final class Builder {
        private final List<Input> inputs = new ArrayList<>();
        private final List<Node> nodes = new ArrayList<>();
        private String last;
        private String output;

        public Builder input(String name, Shape perSampleShape) {
            inputs.add(new Input(name, perSampleShape));
            last = name;
            return this;
        }

        public Builder add(Layer layer, String... inputNames) {
            nodes.add(new Node(layer, List.of(inputNames)));
            last = layer.name();
            return this;
        }

        public Builder add(Layer layer, List<String> inputNames) {
            nodes.add(new Node(layer, List.copyOf(inputNames)));
            last = layer.name();
            return this;
        }

        public Builder then(Layer layer) {
            if (last == null) throw new IllegalStateException("add an input first");
            return add(layer, last);
        }

        public Builder output(String name) {
            this.output = name;
            return this;
        }

        public Model build() {
            if (inputs.isEmpty()) throw new IllegalStateException("a model needs an input");
            return new Model(inputs, nodes, output != null ? output : last);
        }
    }
}
