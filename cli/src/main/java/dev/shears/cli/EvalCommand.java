package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.cli.report.ReportWriter;
import dev.shears.core.backend.Backend;
import dev.shears.core.cuda.CudaBackend;
import dev.shears.core.cuda.sparse.Precision;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import dev.shears.core.nn.Model;
import dev.shears.pruning.thin.ChannelThinning;
import dev.shears.pruning.thin.ThinnedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code shears eval --model FILE --data DATA [--sparse [--precision fp32|fp16|bf16] | --thin] [--json]}: test-set loss and accuracy. */
@Command(name = "eval", description = "Evaluate a model on the test split of a data set (t10k IDX files, x_test/y_test, or DIR/test image folders).")
final class EvalCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ModelOption modelOption;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist, a .npz file (x_test, y_test are read), a folder of IDX or .npy files, or a folder of image class folders (DIR/test/CLASS/*.png, or val/; PNG, JPEG, BMP, GIF). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--batch", defaultValue = "256", description = "Batch size. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--sparse", description = "Run inference through the planned sparse model (fastest format per layer).")
    boolean sparse;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|fp16|bf16",
            description = "With --sparse on --backend cuda: fp16 or bf16 opts in to reduced precision, adding cuSPARSELt 2:4 "
                    + "(\"2:4-lt fp16\") as a candidate for Dense and Conv2D layers pruned 2:4; such a layer rounds its inputs, weights and "
                    + "outputs to 16 bits (FP32 accumulation) and is kept only where it beats dense by the planner's margin. "
                    + "With fp16, a layer whose inputs or outputs on the first test batch exceed half of FP16's range (32752) "
                    + "is not offered it (it would overflow to inf) and says so; bf16 has FP32's range. "
                    + "The CPU backend runs fp32 only. Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--thin", description = "Evaluate the thinned model: output channels whose weights are all zero removed (structure: channels),"
            + " what export --thin writes; prints the parameter count before and after.")
    boolean thin;

    @Option(names = "--json", description = "Print one JSON object on stdout and nothing else.")
    boolean json;

    @Mixin BackendOption backendOption;

    @Override public Integer call() throws Exception {
        var err = System.err;
        // before the data and the model load, as a usage error (the evaluator's own check came last, exit 1)
        if (batch < 1) throw new UserError("--batch " + batch + ": the batch size must be at least 1");
        Precision p = SparseEval.precision(precision);
        if (p != Precision.FP32 && !sparse)
            throw new UserError("--precision " + p.id() + " applies to sparse inference only: add --sparse (and --backend cuda)");
        // a thinned model is dense by construction (what was masked is gone), and --sparse plans the masked one: one or the other
        if (thin && sparse)
            throw new UserError("--thin and --sparse are mutually exclusive: --thin evaluates the smaller dense model that channel pruning leaves,"
                    + " --sparse the masked model in sparse formats; drop one");
        modelOption.check(true); // a mistyped --model fails before the data loads
        DataSources.check(data); // and a mistyped --data before CUDA opens
        try (Backend be = backendOption.open(err)) {
            if (p != Precision.FP32 && !(be instanceof CudaBackend))
                throw new UserError("--precision " + p.id() + " needs the cuda backend (cuSPARSELt's 2:4 products), but eval runs on "
                        + be.name() + ", whose sparse planner runs fp32 only; drop --precision, or run with --backend cuda on a machine with CUDA");
            Progress bar = new Progress(err, false);
            Interruption onSignal = Interruption.forLoading(null, null, err, bar);
            Dataset test = DecodeLine.loadTest(data, bar, onSignal);
            onSignal.working("loading --model " + modelOption.model, 0, null); // a large ONNX or Keras file takes a while to import
            ModelSource src = modelOption.load(be, test.sampleShape(), test.classes(), 0);
            test = src.arrange(test); // channels-last images for an NCHW model: moved once, here
            Model model = src.model();
            ThinnedModel thinned = null;
            if (thin) {
                thinned = ChannelThinning.thin(model);
                for (String w : thinned.warnings()) err.println("eval: thinning: " + w);
                if (thinned.removedChannels() == 0)
                    err.println("eval: --thin: no output channel of " + src.description() + " is all zero (or none could go), so the thinned model is the model itself");
                model = thinned.model();
            }
            long t0 = System.nanoTime();
            Evaluator.Result r;
            String mode = "dense";
            double planSecs = 0; // --sparse: choosing the formats, before the test set runs
            // 10,000 images through a CNN take several seconds on two cores: show they are moving
            ClassAccuracy perClass = new ClassAccuracy(test.labels());
            // a Ctrl-C says how far it got, on the line below the bar (Shears.execute removes the hook when eval returns)
            onSignal.working("evaluating " + src.description() + " on " + test.name(), test.count(), "sample");
            EvalProgress progress = new EvalProgress(bar, test.count()).tallying(perClass, model.backend()).telling(onSignal);
            if (sparse) {
                SparseEval.Outcome o = SparseEval.evaluate(model, test, batch, p, err, progress); // caps batch to the test set
                r = o.result();
                mode = o.description();
                planSecs = o.planSeconds();
            } else {
                r = progress.evaluateDense(model, test, SparseEval.evalBatch(batch, test));
                if (thinned != null) mode = "thinned";
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            // each class of the data by the model's name for it; a model without names (one trained before the built-in
            // Fashion-MNIST named its classes) is scored with label i as output i, so label i's name in the data names that row
            List<ClassAccuracy.Row> classes = perClass.rows(src.model().classNames().isEmpty() ? test.classNames() : src.model().classNames());
            var out = spec.commandLine().getOut();
            if (json) {
                ObjectNode o = ReportWriter.JSON.createObjectNode();
                o.put("accuracy", r.accuracy()).put("loss", r.loss()).put("samples", r.samples());
                o.put("model", src.description()).put("data", test.name()).put("backend", be.name()).put("mode", mode).put("seconds", secs);
                // "seconds" is the whole of it, planning included (kept as it was for existing readers); these split it
                o.put("planningSeconds", planSecs).put("evaluationSeconds", secs - planSecs);
                if (thinned != null) o.put("parameters", thinned.parametersBefore()).put("thinnedParameters", thinned.parametersAfter())
                        .put("channelsRemoved", thinned.removedChannels());
                // what each output means (empty where the model has no names), and the accuracy of each class the data holds
                o.set("classNames", ReportWriter.JSON.valueToTree(src.model().classNames()));
                o.set("perClass", ClassAccuracy.json(classes));
                out.println(ReportWriter.JSON.writer().writeValueAsString(o));
            } else {
                out.printf(Locale.ROOT, "%s on %s: accuracy %.2f%%, loss %.4f, %s (%s, %.2f s%s)%n", src.description(), test.name(),
                        100 * r.accuracy(), r.loss(), Plural.of(r.samples(), "sample"), mode, secs,
                        planSecs > 0 ? String.format(Locale.ROOT, ": %.2f s planning, %.2f s evaluating", planSecs, secs - planSecs) : "");
                for (String line : ClassAccuracy.lines(classes)) out.println(line);
                if (thinned != null) {
                    out.println(ThinningReport.counts(thinned.parametersBefore(), thinned.parametersAfter(), thinned.removedChannels()));
                    for (String line : ThinningReport.layerLines(src.model(), thinned)) out.println(line);
                }
            }
            return 0;
        }
    }
}
