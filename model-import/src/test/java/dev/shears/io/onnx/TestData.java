package dev.shears.io.onnx;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;

/** The ONNX test files under src/test/resources/onnx (see the README there). */
final class TestData {
    private TestData() {}

    static final List<String> PYTORCH_CASES = List.of("test_AvgPool2d", "test_AvgPool2d_stride", "test_BatchNorm2d_eval",
            "test_BatchNorm2d_momentum_eval", "test_Conv1d", "test_Conv2d", "test_Conv2d_no_bias", "test_Conv2d_padding",
            "test_Conv2d_strided", "test_Linear", "test_Linear_no_bias", "test_LogSoftmax", "test_MaxPool2d", "test_ReLU",
            "test_Softmax");

    static final List<String> LIGHT_MODELS = List.of("bvlc_alexnet", "inception_v1", "resnet50", "squeezenet");

    static Path resource(String relative) {
        URL url = TestData.class.getResource("/onnx/" + relative);
        if (url == null) throw new IllegalStateException("test resource onnx/" + relative + " is missing");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How many nodes of an op type a model file holds. */
    static long nodeCount(Path model, String opType) {
        try {
            return dev.shears.io.onnx.proto.ModelProto.parseFrom(java.nio.file.Files.readAllBytes(model)).getGraph().getNodeList()
                    .stream().filter(n -> n.getOpType().equals(opType)).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Path pytorchModel(String c) { return resource("pytorch-converted/" + c + "/model.onnx"); }
    static Path pytorchInput(String c) { return resource("pytorch-converted/" + c + "/test_data_set_0/input_0.pb"); }
    static Path pytorchOutput(String c) { return resource("pytorch-converted/" + c + "/test_data_set_0/output_0.pb"); }
    static Path lightModel(String net) { return resource("light/light_" + net + ".onnx"); }
    static Path lightOutput(String net) { return resource("light/light_" + net + "_output_0.pb"); }
}
