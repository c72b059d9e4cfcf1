package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.cli.report.ReportWriter;
import dev.shears.core.backend.Backend;
import dev.shears.core.data.DataSources;
import dev.shears.core.data.Dataset;
import dev.shears.core.nn.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code shears eval --model FILE --data DATA [--sparse] [--json]}: test-set loss and accuracy. */
@Command(name = "eval", description = "Evaluate a model on the test split (t10k files) of a data set.")
final class EvalCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ModelOption modelOption;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist or a folder of IDX files. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--batch", defaultValue = "256", description = "Batch size. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--sparse", description = "Run inference through the planned sparse model (fastest format per layer).")
    boolean sparse;

    @Option(names = "--json", description = "Print one JSON object on stdout and nothing else.")
    boolean json;

    @Mixin BackendOption backendOption;

    @Override public Integer call() throws Exception {
        var err = System.err;
        // before the data and the model load, as a usage error (the evaluator's own check came last, exit 1)
        if (batch < 1) throw new UserError("--batch " + batch + ": the batch size must be at least 1");
        Dataset test = DataSources.loadTest(data);
        try (Backend be = backendOption.open(err)) {
            ModelSource src = modelOption.load(be, test.sampleShape(), test.classes(), 0);
            long t0 = System.nanoTime();
            Evaluator.Result r;
            String mode = "dense";
            if (sparse) {
                SparseEval.Outcome o = SparseEval.evaluate(src.model(), test, batch, err);
                r = o.result();
                mode = o.description();
            } else {
                r = Evaluator.evaluate(src.model(), test, batch);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            var out = spec.commandLine().getOut();
            if (json) {
                ObjectNode o = ReportWriter.JSON.createObjectNode();
                o.put("accuracy", r.accuracy()).put("loss", r.loss()).put("samples", r.samples());
                o.put("model", src.description()).put("data", test.name()).put("backend", be.name()).put("mode", mode).put("seconds", secs);
                out.println(ReportWriter.JSON.writer().writeValueAsString(o));
            } else {
                out.printf(Locale.ROOT, "%s on %s: accuracy %.2f%%, loss %.4f, %d samples (%s, %.2f s)%n", src.description(), test.name(),
                        100 * r.accuracy(), r.loss(), r.samples(), mode, secs);
            }
            return 0;
        }
    }
}
