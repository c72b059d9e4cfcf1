package dev.shears.bench.gpu;

import dev.shears.cli.report.BenchJson;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The prunable weight shapes of the benchmark models (every Conv and Gemm weight), generated from
 * the published architectures so the Java and PyTorch sides select over exactly the same tensors:
 * ResNet-50 (He et al. 2016, torchvision layout: bottlenecks [3, 4, 6, 3], stride on the 3x3),
 * VGG-19 (Simonyan and Zisserman 2015, configuration E) and 32 dense layers of 4096x4096.
 */
public final class LayerShapes {
    private LayerShapes() {}

    /** A named weight tensor; {@code dims} as stored (OIHW for convolutions, out x in for dense). */
    public record Layer(String name, long[] dims) {
        public long size() {
            long s = 1;
            for (long d : dims) s *= d;
            return s;
        }

        /** Output channels (the first dimension), for counting batch-norm and bias parameters. */
        public long outChannels() { return dims[0]; }
    }

    public static List<Layer> resnet50() {
        List<Layer> out = new ArrayList<>();
        out.add(new Layer("conv1", new long[] {64, 3, 7, 7}));
        int[] blocks = {3, 4, 6, 3};
        int in = 64;
        for (int stage = 0; stage < 4; stage++) {
            int width = 64 << stage, outC = width * 4;
            for (int b = 0; b < blocks[stage]; b++) {
                String p = "layer" + (stage + 1) + "." + b + ".";
                out.add(new Layer(p + "conv1", new long[] {width, in, 1, 1}));
                out.add(new Layer(p + "conv2", new long[] {width, width, 3, 3}));
                out.add(new Layer(p + "conv3", new long[] {outC, width, 1, 1}));
                if (b == 0) out.add(new Layer(p + "downsample", new long[] {outC, in, 1, 1}));
                in = outC;
            }
        }
        out.add(new Layer("fc", new long[] {1000, 2048}));
        return out;
    }

    public static List<Layer> vgg19() {
        int[][] stages = {{64, 64}, {128, 128}, {256, 256, 256, 256}, {512, 512, 512, 512}, {512, 512, 512, 512}};
        List<Layer> out = new ArrayList<>();
        int in = 3, i = 0;
        for (int[] stage : stages) {
            for (int c : stage) {
                out.add(new Layer("features." + i++, new long[] {c, in, 3, 3}));
                in = c;
            }
        }
        out.add(new Layer("classifier.0", new long[] {4096, 512 * 7 * 7}));
        out.add(new Layer("classifier.3", new long[] {4096, 4096}));
        out.add(new Layer("classifier.6", new long[] {1000, 4096}));
        return out;
    }

    public static List<Layer> dense32() { return dense(32, 4096); }

    /** {@code count} dense layers of {@code size} x {@code size} (the emulator tests use a few small ones). */
    public static List<Layer> dense(int count, int size) {
        List<Layer> out = new ArrayList<>();
        for (int i = 0; i < count; i++) out.add(new Layer("dense" + i, new long[] {size, size}));
        return out;
    }

    private static final java.util.regex.Pattern DENSE = java.util.regex.Pattern.compile("dense(\\d{1,4})x(\\d{1,5})");

    /** resnet50, vgg19, dense32x4096, or denseCxS: C dense layers of S x S. */
    public static List<Layer> byName(String model) {
        java.util.regex.Matcher m = DENSE.matcher(model);
        if (m.matches() && Integer.parseInt(m.group(1)) > 0 && Integer.parseInt(m.group(2)) > 0)
            return dense(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        return switch (model) {
            case "resnet50" -> resnet50();
            case "vgg19" -> vgg19();
            default -> throw new IllegalArgumentException("unknown model '" + model
                    + "': expected resnet50, vgg19, dense32x4096 or denseCxS (C layers of S x S, e.g. dense4x64)");
        };
    }

    /** The shapes as JSON, {"model": [[dims...], ...], ...}, for the PyTorch peer. */
    public static String json(List<String> models) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String m : models) out.put(m, byName(m).stream().map(Layer::dims).toList());
        return BenchJson.write(out);
    }
}
