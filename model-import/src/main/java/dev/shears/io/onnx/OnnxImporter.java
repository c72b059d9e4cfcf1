package dev.shears.io.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.shears.core.backend.Backend;
import dev.shears.core.nn.Model;
import dev.shears.core.nn.Parameter;
import dev.shears.io.ImportException;
import dev.shears.io.onnx.proto.ModelProto;
import dev.shears.io.onnx.proto.OperatorSetIdProto;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reads an ONNX model ({@code .onnx}) into the Shears IR. Entry point: {@link #load(Path, Backend)}.
 *
 * <p>What maps to what (activations are NCHW, axis 0 of every activation is the batch):
 * Gemm and MatMul (+ a following Add of a constant) become {@code Dense} with the kernel stored
 * [in, out]; Conv (1-D and 2-D, groups, dilations, pads, auto_pad) {@code Conv2D} (1-D as H = 1
 * between two Reshapes); pools, BatchNormalization, LRN, Flatten, Reshape, Transpose, Concat,
 * Softmax, LogSoftmax, Dropout and the activations their IR layers; Identity is dropped;
 * Constant, ConstantOfShape and initializers become weights; Add, Sum and Mul of activations
 * become {@code Add}/{@code Multiply}, Add and Mul of a constant fold into the Conv, Dense or
 * BatchNorm before them. Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, Add, Sub, Mul and Div of
 * constants are folded at import (every shape is static; {@link ConstantFolding}), and
 * Unsqueeze/Squeeze of activations become {@code Reshape}. Operator-set versions 6 and newer are read, with each op's attribute
 * changes between versions handled (see {@link GraphImport}).
 */
public final class OnnxImporter {

    /** The ONNX ops (default domain) Shears imports, as error messages list them. */
    public static final List<String> SUPPORTED_OPS = List.of(
            "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv",
            "Div", "Dropout", "Elu", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "HardSigmoid", "HardSwish",
            "Identity", "LRN", "LeakyRelu", "LogSoftmax", "MatMul", "MaxPool", "Mul", "Pad", "PRelu", "ReduceMax", "ReduceMean", "Relu",
            "Reshape", "Selu", "Shape",
            "Sigmoid", "Softmax", "Softplus", "Softsign", "Squeeze", "Sub", "Sum", "Tanh", "Transpose", "Unsqueeze");

    /** The oldest default-domain operator set read. */
    public static final int MIN_OPSET = 6;

    private OnnxImporter() {}

    /**
     * A model read from a file but not yet placed on a backend.
     *
     * @param model   the IR graph; its parameters hold no values yet
     * @param weights every parameter's values by parameter name, row-major in the parameter's shape
     * @param opset   the default-domain operator-set version the file imports
     * @param producer the producing tool and version as the file states them (may be empty)
     */
    public record Imported(Model model, Map<String, float[]> weights, int opset, String producer) {

        /** Uploads the weights to {@code backend} and binds the model to it. */
        public Model bind(Backend backend) {
            for (Parameter p : model.parameters()) {
                float[] v = weights.get(p.name());
                if (v == null) throw new IllegalStateException("no imported values for parameter " + p.name());
                p.setValue(backend.upload(v, p.shape()));
            }
            return model.bind(backend, 0L);
        }
    }

    /** Reads {@code file} and returns the model bound to {@code backend}, weights in place. */
    public static Model load(Path file, Backend backend) {
        return read(file).bind(backend);
    }

    /** Reads {@code file} into an unbound model plus its weights. */
    public static Imported read(Path file) {
        byte[] bytes = OnnxTensors.readAll(file);
        return read(bytes, file);
    }

    /** Reads model bytes; {@code file} names the model in errors and anchors external data (may be null). */
    public static Imported read(byte[] bytes, Path file) {
        ModelProto proto;
        try {
            proto = ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new ImportException("not a valid ONNX model: the protobuf does not parse (truncated or corrupt file; "
                    + e.getMessage() + ")", file, null, List.of(), e);
        }
        if (bytes.length == 0) throw new ImportException("the file is empty", file, null);
        if (!proto.hasIrVersion() || !proto.hasGraph())
            throw new ImportException("not an ONNX model: " + (proto.hasIrVersion() ? "" : "no ir_version, ")
                    + (proto.hasGraph() ? "" : "no graph ") + "(truncated, corrupt, or another kind of file)", file, null);
        int opset = defaultOpset(proto, file);
        String producer = (proto.getProducerName() + " " + proto.getProducerVersion()).strip();
        GraphImport g = new GraphImport(proto.getGraph(), file, opset);
        Model model = g.run();
        OnnxClassNames.read(proto, model, file); // metadata_props "shears.class_names", when the file has it
        return new Imported(model, g.weights(), opset, producer);
    }

    private static int defaultOpset(ModelProto proto, Path file) {
        long version = -1;
        for (OperatorSetIdProto o : proto.getOpsetImportList()) {
            String d = o.getDomain();
            if (d.isEmpty() || d.equals("ai.onnx")) version = Math.max(version, o.getVersion());
        }
        if (version < 0) {
            // IR version 1 and 2 files may omit opset_import: ONNX then means operator set 1
            throw new ImportException("the model imports no default-domain operator set (opset_import); Shears reads opset "
                    + MIN_OPSET + " and newer", file, null);
        }
        if (version < MIN_OPSET)
            throw new ImportException("operator set " + version + " is older than " + MIN_OPSET
                    + ", the oldest Shears reads; convert the model with onnx.version_converter", file, null);
        return (int) version;
    }
}
