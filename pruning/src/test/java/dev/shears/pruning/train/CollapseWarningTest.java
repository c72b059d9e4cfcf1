package dev.shears.pruning.train;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When an epoch counts as ended at chance, and what the warning says. */
class CollapseWarningTest {

    private static EpochMetrics epoch(int epoch, double trainLoss, double trainAccuracy) {
        return new EpochMetrics(epoch, 0.05, trainLoss, trainAccuracy, Double.NaN, Double.NaN, 0, 0, Map.of(), 1);
    }

    @Test void atChanceOnBothAccuracyAndLossIsACollapse() {
        double ln10 = Math.log(10);
        CollapseWarning w = CollapseWarning.check(epoch(2, ln10, 0.15), 10, 0.05);
        assertNotNull(w, "accuracy exactly 1.5 / classes and loss exactly ln(classes)");
        assertEquals(2, w.epoch());
        assertEquals(0.005, w.suggestedLr(), 0, "a tenth of the start rate");
        assertTrue(w.describe().startsWith("epoch 2 ended at chance (train accuracy 15.0%, loss 2.30 >= ln 10 = 2.30)"), w.describe());
        assertTrue(w.describe().contains("(0.05 at the start)"), w.describe());
    }

    @Test void eitherAboveChanceIsNot() {
        assertNull(CollapseWarning.check(epoch(1, 3.0, 0.16), 10, 0.05), "accuracy above 1.5x chance");
        assertNull(CollapseWarning.check(epoch(1, 2.2, 0.10), 10, 0.05), "loss below ln(classes)");
    }

    @Test void notBeforeTrainingNorWithoutMetricsNorForOneClass() {
        assertNull(CollapseWarning.check(epoch(0, 3.0, 0.10), 10, 0.05), "epoch 0 is the evaluation before training");
        assertNull(CollapseWarning.check(epoch(1, Double.NaN, Double.NaN), 10, 0.05), "no metrics");
        assertNull(CollapseWarning.check(epoch(1, 3.0, 0.10), 1, 0.05), "one class has no chance level");
    }

    @Test void ratesAreWrittenPlainly() {
        assertEquals("0.005", CollapseWarning.rate(5e-3));
        assertEquals("0.0001235", CollapseWarning.rate(1.23456e-4));
        assertEquals("NaN", CollapseWarning.rate(Double.NaN));
    }
}
