package dev.shears.cli.report;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;

/** A line chart rendered to PNG with Java2D (headless), for benchmark sweeps; y may be log-scaled. */
public final class PngChart {
    private PngChart() {}

    public record Line(String name, double[] x, double[] y) {}

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};

    public static byte[] render(String title, String xLabel, String yLabel, List<Line> lines, boolean logY) {
        System.setProperty("java.awt.headless", "true");
        int w = 960, h = 560, l = 80, r = 250, t = 40, b = 60;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (Line ln : lines)
            for (int i = 0; i < ln.x().length; i++) {
                double yv = logY ? Math.log10(ln.y()[i]) : ln.y()[i];
                if (!Double.isFinite(yv)) continue;
                x0 = Math.min(x0, ln.x()[i]);
                x1 = Math.max(x1, ln.x()[i]);
                y0 = Math.min(y0, yv);
                y1 = Math.max(y1, yv);
            }
        if (x0 > x1) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
        if (x1 == x0) x1 = x0 + 1;
        if (y1 == y0) { y0 -= 0.5; y1 += 0.5; }
        double pad = (y1 - y0) * 0.05;
        y0 -= pad;
        y1 += pad;
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.setColor(Color.BLACK);
        g.drawString(title, l, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(new Color(0xdddddd));
        for (int i = 0; i <= 5; i++) {
            int yy = t + (h - t - b) * i / 5;
            g.drawLine(l, yy, w - r, yy);
        }
        g.setColor(Color.GRAY);
        g.drawRect(l, t, w - l - r, h - t - b);
        g.setColor(Color.BLACK);
        for (int i = 0; i <= 5; i++) {
            double yv = y1 - (y1 - y0) * i / 5;
            double shown = logY ? Math.pow(10, yv) : yv;
            g.drawString(String.format(Locale.ROOT, shown >= 100 ? "%.0f" : shown >= 1 ? "%.2f" : "%.3f", shown), 8, t + (h - t - b) * i / 5 + 4);
            double xv = x0 + (x1 - x0) * i / 5;
            g.drawString(String.format(Locale.ROOT, "%.2f", xv), l + (w - l - r) * i / 5 - 12, h - b + 18);
        }
        g.drawString(xLabel, l + (w - l - r) / 2 - 30, h - 18);
        g.drawString(yLabel + (logY ? " (log scale)" : ""), l, t - 6);
        g.setStroke(new BasicStroke(2f));
        for (int li = 0; li < lines.size(); li++) {
            Line ln = lines.get(li);
            g.setColor(PALETTE[li % PALETTE.length]);
            int px = -1, py = -1;
            for (int i = 0; i < ln.x().length; i++) {
                double yv = logY ? Math.log10(ln.y()[i]) : ln.y()[i];
                if (!Double.isFinite(yv)) { px = -1; continue; }
                int cx = (int) Math.round(l + (ln.x()[i] - x0) / (x1 - x0) * (w - l - r));
                int cy = (int) Math.round(t + (y1 - yv) / (y1 - y0) * (h - t - b));
                g.fillOval(cx - 3, cy - 3, 7, 7);
                if (px >= 0) g.drawLine(px, py, cx, cy);
                px = cx;
                py = cy;
            }
            g.drawLine(w - r + 14, t + 12 + 20 * li, w - r + 40, t + 12 + 20 * li);
            g.setColor(Color.BLACK);
            g.drawString(ln.name(), w - r + 46, t + 16 + 20 * li);
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
