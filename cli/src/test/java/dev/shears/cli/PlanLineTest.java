package dev.shears.cli;

import dev.shears.core.sparse.PlanProgress;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The planner's per-layer progress drawn as the CLI's other progress is: a live bar on a terminal, sparse lines in a log. */
class PlanLineTest {

    @Test void aLogGetsTheFirstLayerThenNothingUntilSecondsHavePassed() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long[] now = {5_000_000_000L};
        PlanLine line = new PlanLine(new Progress(new PrintStream(b, true, StandardCharsets.UTF_8), false, false, () -> now[0]));
        line.planned(1, 54, "n0", "csr");
        now[0] += 4_900_000_000L;
        line.planned(2, 54, "n4", "dense");
        line.planned(54, 54, "n174", "blocked-ell-16");
        String out = b.toString(StandardCharsets.UTF_8);
        assertEquals("sparse plan [" + ".".repeat(28) + "] 1/54 layers (n0: csr)\n", out, "the first layer; the second within 5 s, the last ends the bar");
        b.reset();
        line.planned(1, 54, "n0", "csr");
        now[0] += 5_000_000_000L;
        line.planned(27, 54, "n90", "dense");
        assertEquals("sparse plan [" + "#".repeat(14) + ".".repeat(14) + "] 27/54 layers (n90: dense)\n", b.toString(StandardCharsets.UTF_8), "5 s later: a line");
    }

    @Test void aTerminalGetsTheBarInPlaceAndErasedAtTheLastLayer() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        PlanLine line = new PlanLine(new Progress(new PrintStream(b, true, StandardCharsets.UTF_8), false, true));
        line.planned(2, 4, "conv2", "csr");
        String drawn = b.toString(StandardCharsets.UTF_8);
        assertEquals("\rsparse plan [" + "#".repeat(14) + ".".repeat(14) + "] 2/4 layers (conv2: csr)", drawn);
        line.planned(4, 4, "fc3", "dense");
        String out = b.toString(StandardCharsets.UTF_8).substring(drawn.length());
        assertTrue(out.startsWith("\r") && out.endsWith("\r") && out.isBlank(), "the finished bar is erased: '" + out + "'");
        assertFalse(out.contains("\n"));
    }

    @Test void evalWithoutABarPlansWithoutOne() {
        assertSame(PlanProgress.NONE, EvalProgress.NONE.planning());
    }
}
