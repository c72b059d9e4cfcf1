package dev.shears.cli.report;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The report's chart of a change per class: losses left of the zero line in red, gains right in green, scaled to the largest. */
class SignedBarsTest {
    @Test
    void lossesGoLeftAndGainsRightOfZero() {
        // 640 wide, labels 170, bars 2 x 195: zero at x = 365; the largest |value| (2) spans a half
        String svg = SvgChart.signedBars("Change", List.of("Shirt", "Bag", "none"), new double[]{-2, 1, Double.NaN}, 1.0, "%+.2f");
        assertTrue(svg.contains("<rect x=\"170.0\" y=\"37\" width=\"195.0\" height=\"16\" fill=\"#d62728\"/>"), svg);
        assertTrue(svg.contains("<rect x=\"365.0\" y=\"59\" width=\"97.5\" height=\"16\" fill=\"#2ca02c\"/>"), svg);
        assertTrue(svg.contains("width=\"0.0\" height=\"16\"") && svg.contains(">n/a</text>"), "NaN: no bar, n/a: " + svg);
        assertTrue(svg.contains(">-2.00</text>") && svg.contains(">+1.00</text>"), svg);
        assertTrue(svg.contains("<line x1=\"365\" y1=\"34\" x2=\"365\" y2=\"100\""), "the zero line: " + svg);
        // small changes keep the minimum scale: 0.5 of 1 point is a quarter of the width, not all of it
        String small = SvgChart.signedBars("Change", List.of("a"), new double[]{-0.5}, 1.0, "%+.2f");
        assertTrue(small.contains("<rect x=\"267.5\" y=\"37\" width=\"97.5\""), small);
    }
}
