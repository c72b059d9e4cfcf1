package dev.shears.cli.report;

import java.util.List;
import java.util.Locale;

/** Small self-contained SVG charts for the HTML report (no scripts, no external files). */
public final class SvgChart {
    private SvgChart() {}

    /** One line of a line chart; NaN y values leave a gap. */
    public record Series(String name, double[] x, double[] y, String color, boolean dashed) {}

    private static final int W = 640, H = 300, L = 60, R = 150, T = 34, B = 44;

    public static String line(String title, String xLabel, String yLabel, List<Series> series, Double yMin, Double yMax) {
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series)
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isNaN(s.y()[i])) continue;
                x0 = Math.min(x0, s.x()[i]);
                x1 = Math.max(x1, s.x()[i]);
                y0 = Math.min(y0, s.y()[i]);
                y1 = Math.max(y1, s.y()[i]);
            }
        if (x0 > x1) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
        if (yMin != null) y0 = yMin;
        if (yMax != null) y1 = yMax;
        if (x1 == x0) x1 = x0 + 1;
        if (y1 == y0) { y1 = y0 + 1e-3 + Math.abs(y0) * 0.05; y0 = y0 - (y1 - y0); }
        StringBuilder sb = open(title);
        axes(sb, x0, x1, y0, y1, xLabel, yLabel);
        int li = 0;
        for (Series s : series) {
            StringBuilder path = new StringBuilder();
            boolean pen = false;
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isNaN(s.y()[i])) { pen = false; continue; }
                path.append(pen ? " L" : " M").append(fmt(px(s.x()[i], x0, x1))).append(',').append(fmt(py(s.y()[i], y0, y1)));
                pen = true;
            }
            sb.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"").append(s.color())
                    .append("\" stroke-width=\"2\"").append(s.dashed() ? " stroke-dasharray=\"6 4\"" : "").append("/>\n");
            if (s.x().length <= 80)
                for (int i = 0; i < s.x().length; i++)
                    if (!Double.isNaN(s.y()[i]))
                        sb.append("<circle cx=\"").append(fmt(px(s.x()[i], x0, x1))).append("\" cy=\"").append(fmt(py(s.y()[i], y0, y1)))
                                .append("\" r=\"2.2\" fill=\"").append(s.color()).append("\"/>\n");
            int ly = T + 14 + 18 * li++;
            sb.append("<line x1=\"").append(W - R + 12).append("\" y1=\"").append(ly - 4).append("\" x2=\"").append(W - R + 32)
                    .append("\" y2=\"").append(ly - 4).append("\" stroke=\"").append(s.color()).append("\" stroke-width=\"2\"")
                    .append(s.dashed() ? " stroke-dasharray=\"6 4\"" : "").append("/>");
            sb.append("<text x=\"").append(W - R + 38).append("\" y=\"").append(ly).append("\" font-size=\"12\">").append(esc(s.name())).append("</text>\n");
        }
        return sb.append("</svg>\n").toString();
    }

    /** Horizontal bars, one per label, values in [0, max]. */
    public static String bars(String title, List<String> labels, double[] values, double max, String valueFormat) {
        int rowH = 22, h = T + B / 2 + rowH * labels.size();
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(h)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(h).append("\" font-family=\"sans-serif\">\n");
        sb.append("<text x=\"").append(W / 2).append("\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">").append(esc(title)).append("</text>\n");
        int labelW = 170, barMax = W - labelW - 80;
        for (int i = 0; i < labels.size(); i++) {
            int y = T + i * rowH;
            double frac = max > 0 ? Math.max(0, Math.min(1, values[i] / max)) : 0;
            sb.append("<text x=\"").append(labelW - 8).append("\" y=\"").append(y + 15).append("\" text-anchor=\"end\" font-size=\"12\">").append(esc(labels.get(i))).append("</text>");
            sb.append("<rect x=\"").append(labelW).append("\" y=\"").append(y + 3).append("\" width=\"").append(barMax)
                    .append("\" height=\"16\" fill=\"#eee\"/>");
            sb.append("<rect x=\"").append(labelW).append("\" y=\"").append(y + 3).append("\" width=\"").append(fmt(barMax * frac))
                    .append("\" height=\"16\" fill=\"#3b7dd8\"/>");
            sb.append("<text x=\"").append(labelW + barMax + 6).append("\" y=\"").append(y + 15).append("\" font-size=\"12\">")
                    .append(String.format(Locale.ROOT, valueFormat, values[i])).append("</text>\n");
        }
        return sb.append("</svg>\n").toString();
    }

    /**
     * Horizontal bars that go left of a zero line for negative values and right for positive ones (a change: red for a
     * loss, green for a gain), one per label; the scale is the largest |value| (at least {@code minScale}), NaN draws no bar.
     */
    public static String signedBars(String title, List<String> labels, double[] values, double minScale, String valueFormat) {
        int rowH = 22, h = T + B / 2 + rowH * labels.size();
        double scale = minScale;
        for (double v : values) if (!Double.isNaN(v)) scale = Math.max(scale, Math.abs(v));
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(h)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(h).append("\" font-family=\"sans-serif\">\n");
        sb.append("<text x=\"").append(W / 2).append("\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">").append(esc(title)).append("</text>\n");
        int labelW = 170, half = (W - labelW - 80) / 2, zero = labelW + half;
        for (int i = 0; i < labels.size(); i++) {
            int y = T + i * rowH;
            double v = values[i];
            double len = Double.isNaN(v) || scale <= 0 ? 0 : half * Math.min(1, Math.abs(v) / scale);
            sb.append("<text x=\"").append(labelW - 8).append("\" y=\"").append(y + 15).append("\" text-anchor=\"end\" font-size=\"12\">").append(esc(labels.get(i))).append("</text>");
            sb.append("<rect x=\"").append(labelW).append("\" y=\"").append(y + 3).append("\" width=\"").append(2 * half)
                    .append("\" height=\"16\" fill=\"#eee\"/>");
            sb.append("<rect x=\"").append(fmt(v < 0 ? zero - len : zero)).append("\" y=\"").append(y + 3).append("\" width=\"").append(fmt(len))
                    .append("\" height=\"16\" fill=\"").append(v < 0 ? "#d62728" : "#2ca02c").append("\"/>");
            sb.append("<text x=\"").append(labelW + 2 * half + 6).append("\" y=\"").append(y + 15).append("\" font-size=\"12\">")
                    .append(Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, valueFormat, v)).append("</text>\n");
        }
        sb.append("<line x1=\"").append(zero).append("\" y1=\"").append(T).append("\" x2=\"").append(zero).append("\" y2=\"")
                .append(T + rowH * labels.size()).append("\" stroke=\"#555\"/>\n");
        return sb.append("</svg>\n").toString();
    }

    private static StringBuilder open(String title) {
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H).append("\" font-family=\"sans-serif\">\n");
        sb.append("<text x=\"").append((W - R + L) / 2).append("\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">")
                .append(esc(title)).append("</text>\n");
        return sb;
    }

    private static void axes(StringBuilder sb, double x0, double x1, double y0, double y1, String xl, String yl) {
        sb.append("<rect x=\"").append(L).append("\" y=\"").append(T).append("\" width=\"").append(W - L - R).append("\" height=\"")
                .append(H - T - B).append("\" fill=\"none\" stroke=\"#999\"/>\n");
        for (int i = 0; i <= 5; i++) {
            double yv = y0 + (y1 - y0) * i / 5, xv = x0 + (x1 - x0) * i / 5;
            double yy = py(yv, y0, y1), xx = px(xv, x0, x1);
            sb.append("<line x1=\"").append(L).append("\" y1=\"").append(fmt(yy)).append("\" x2=\"").append(W - R).append("\" y2=\"")
                    .append(fmt(yy)).append("\" stroke=\"#eee\"/>");
            sb.append("<text x=\"").append(L - 6).append("\" y=\"").append(fmt(yy + 4)).append("\" text-anchor=\"end\" font-size=\"11\">")
                    .append(tick(yv, y1 - y0)).append("</text>");
            sb.append("<text x=\"").append(fmt(xx)).append("\" y=\"").append(H - B + 16).append("\" text-anchor=\"middle\" font-size=\"11\">")
                    .append(tick(xv, x1 - x0)).append("</text>\n");
        }
        sb.append("<text x=\"").append((W - R + L) / 2).append("\" y=\"").append(H - 8).append("\" text-anchor=\"middle\" font-size=\"12\">").append(esc(xl)).append("</text>");
        sb.append("<text x=\"14\" y=\"").append((H - B + T) / 2).append("\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 ")
                .append((H - B + T) / 2).append(")\">").append(esc(yl)).append("</text>\n");
    }

    private static double px(double x, double x0, double x1) { return L + (x - x0) / (x1 - x0) * (W - L - R); }

    private static double py(double y, double y0, double y1) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); }

    private static String tick(double v, double range) {
        if (range >= 20) return String.format(Locale.ROOT, "%.0f", v);
        if (range >= 2) return String.format(Locale.ROOT, "%.1f", v);
        if (range >= 0.2) return String.format(Locale.ROOT, "%.2f", v);
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String fmt(double v) { return String.format(Locale.ROOT, "%.1f", v); }

    public static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
