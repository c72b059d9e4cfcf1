package dev.shears.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.*;

/** {@link TimingBudget}: a batch size whose forward, scaled from a smaller one timed, would pass half a second is skipped. */
class TimingBudgetTest {
    @Test void anImageNetSizedForwardAtBatch64IsSkippedWithTheEstimateAndTheWayToTimeItAnyway() {
        // SqueezeNet on 224x224 images, 16 ms at batch 1 on two cores: about 1 s at 64
        String why = TimingBudget.skipReason(64, 1, 16.0);
        assertNotNull(why);
        assertTrue(why.startsWith("batch 64 not timed: one forward would take about 1.0 s (16.000 ms at batch 1, scaled)"), why);
        assertTrue(why.endsWith("give --inference-batches 64 alone to time it anyway"), why);
    }

    @Test void smallModelsAndTheFirstOrSmallerBatchesAreAlwaysTimed() {
        assertNull(TimingBudget.skipReason(64, 1, 0.2));     // LeNet-300-100
        assertNull(TimingBudget.skipReason(64, 1, 500.0 / 64)); // exactly at the limit
        assertNotNull(TimingBudget.skipReason(64, 1, 501.0 / 64));
        assertNull(TimingBudget.skipReason(64, 0, 0));       // nothing timed yet: a batch given alone
        assertNull(TimingBudget.skipReason(1, 64, 900.0));   // smaller than the one timed
        assertNotNull(TimingBudget.skipReason(256, 64, 200.0)); // scaled from the last one timed, not only batch 1
    }

    /** A section's loop: each batch size judged by the last one timed, a skipped one said on the progress and not recorded. */
    @Test void theBudgetJudgesEachBatchSizeByTheLastOneTimedAndSaysWhatItSkips() {
        StringWriter said = new StringWriter();
        TimingBudget budget = new TimingBudget(new Progress(new PrintWriter(said, true), false));
        assertTrue(budget.allows(64), "nothing timed yet");
        budget.timed(1, 16.0);
        assertFalse(budget.allows(64));
        assertTrue(said.toString().contains("batch 64 not timed: one forward would take about 1.0 s"), said.toString());
        assertTrue(budget.allows(8), "8 x 16 ms stays under half a second");
        budget.timed(8, 2.0); // the last one timed is the measure now, not batch 1
        assertTrue(budget.allows(64), said.toString());
        assertFalse(said.toString().contains("batch 8 not timed"), said.toString());
    }
}
