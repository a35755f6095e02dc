package dev.imgtrain.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The pages' charts, drawn by JFreeChart as PNG: per-epoch curves (a run's train against validation, or a sweep's
 * trials overlaid), a value against a parameter, and the confusion heat map.
 */
public final class Charts {
    /** Matplotlib's default colours: the first two are Keras plots' train and validation. */
    private static final Color[] PALETTE = {new Color(0x1F77B4), new Color(0xFF7F0E), new Color(0x2CA02C),
            new Color(0xD62728), new Color(0x9467BD), new Color(0x8C564B), new Color(0xE377C2), new Color(0x7F7F7F),
            new Color(0xBCBD22), new Color(0x17BECF)};

    private Charts() {
    }

    /** One curve: its name and a value per epoch (NaN where the run has none; such points are left out). */
    public record Curve(String name, double[] values) {
    }

    /**
     * Values per epoch (epoch 1 first), one line each; the first curve in the training colour, the second in the
     * validation colour, as Keras' plotted history.
     */
    public static byte[] epochCurves(String title, String yLabel, int[] epochs, List<Curve> curves) {
        return epochCurves(title, yLabel, epochs, curves, List.of());
    }

    /** The curves with a vertical line at each of {@code marks} (an ASHA sweep's rungs), labelled "rung k". */
    public static byte[] epochCurves(String title, String yLabel, int[] epochs, List<Curve> curves, List<Integer> marks) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Curve c : curves) {
            XYSeries series = new XYSeries(c.name());
            for (int i = 0; i < epochs.length; i++) {
                if (!Double.isNaN(c.values()[i])) {
                    series.add(epochs[i], c.values()[i]);
                }
            }
            data.addSeries(series);
        }
        NumberAxis x = new NumberAxis("epoch");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setAutoRangeIncludesZero(false);
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < curves.size(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (int k = 0; k < marks.size(); k++) {
            org.jfree.chart.plot.ValueMarker mark = new org.jfree.chart.plot.ValueMarker(marks.get(k), Color.GRAY,
                    new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
            mark.setLabel("rung " + k);
            mark.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            mark.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT);
            mark.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.TOP_LEFT);
            plot.addDomainMarker(mark);
        }
        // A legend of more than 8 curves (a sweep's trials) would leave no room for the plot: the page's table names them.
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 15), plot, curves.size() <= 8);
        chart.setBackgroundPaint(Color.WHITE);
        return png(chart, 560, curves.size() > 4 ? 420 : 360);
    }

    /**
     * {@code ys} against a parameter, one point per trial: numbers on a number axis (logarithmic when they span two
     * decades or more), anything else as categories in the order given; NaN values are left out.
     */
    public static byte[] scatter(String title, String xLabel, String yLabel, List<String> xs, double[] ys) {
        boolean numeric = xs.stream().allMatch(x -> x.matches("-?[0-9.]+([eE][-+]?[0-9]+)?"));
        XYSeries series = new XYSeries(yLabel);
        List<String> categories = xs.stream().distinct().toList();
        for (int i = 0; i < xs.size(); i++) {
            if (!Double.isNaN(ys[i])) {
                series.add(numeric ? Double.parseDouble(xs.get(i)) : categories.indexOf(xs.get(i)), ys[i]);
            }
        }
        org.jfree.chart.axis.ValueAxis x;
        if (!numeric) {
            SymbolAxis symbols = new SymbolAxis(xLabel, categories.toArray(String[]::new));
            symbols.setRange(-0.5, categories.size() - 0.5);
            x = symbols;
        } else {
            double min = xs.stream().mapToDouble(Double::parseDouble).min().orElse(1);
            double max = xs.stream().mapToDouble(Double::parseDouble).max().orElse(1);
            if (min > 0 && max / min >= 100) {
                org.jfree.chart.axis.LogAxis log = new org.jfree.chart.axis.LogAxis(xLabel);
                log.setRange(min / 1.5, max * 1.5);
                x = log;
            } else {
                NumberAxis n = new NumberAxis(xLabel);
                n.setAutoRangeIncludesZero(false);
                x = n;
            }
        }
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
        renderer.setSeriesPaint(0, PALETTE[0]);
        XYPlot plot = new XYPlot(new XYSeriesCollection(series), x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 14), plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        return png(chart, 420, 300);
    }

    /**
     * The confusion matrix as a heat map: rows the true classes (top to bottom), columns the predicted ones, each cell
     * shaded by its share of the true class's examples and labelled with its count.
     */
    static byte[] confusionHeatMap(List<String> classes, List<List<Integer>> matrix) {
        int n = classes.size();
        double[] xs = new double[n * n];
        double[] ys = new double[n * n];
        double[] zs = new double[n * n];
        DefaultXYZDataset data = new DefaultXYZDataset();
        XYPlot plot = new XYPlot();
        for (int actual = 0; actual < n; actual++) {
            long total = matrix.get(actual).stream().mapToLong(Integer::longValue).sum();
            for (int predicted = 0; predicted < n; predicted++) {
                int i = actual * n + predicted;
                int count = matrix.get(actual).get(predicted);
                xs[i] = predicted;
                ys[i] = actual;
                zs[i] = total == 0 ? 0 : (double) count / total;
                XYTextAnnotation label = new XYTextAnnotation(Integer.toString(count), predicted, actual);
                label.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, n > 12 ? 9 : 11));
                label.setPaint(zs[i] > 0.5 ? Color.WHITE : Color.BLACK);
                plot.addAnnotation(label);
            }
        }
        data.addSeries("confusion", new double[][]{xs, ys, zs});
        String[] names = classes.toArray(String[]::new);
        SymbolAxis x = new SymbolAxis("predicted class", names);
        x.setVerticalTickLabels(true);
        SymbolAxis y = new SymbolAxis("true class", names);
        y.setInverted(true);
        XYBlockRenderer renderer = new XYBlockRenderer();
        Shares scale = new Shares();
        renderer.setPaintScale(scale);
        plot.setDataset(data);
        plot.setDomainAxis(x);
        plot.setRangeAxis(y);
        plot.setRenderer(renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        x.setRange(-0.5, n - 0.5);
        y.setRange(-0.5, n - 0.5);
        JFreeChart chart = new JFreeChart("Confusion matrix (test split)", new Font(Font.SANS_SERIF, Font.BOLD, 15), plot, false);
        PaintScaleLegend legend = new PaintScaleLegend(scale, new NumberAxis("share of the true class"));
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(4, 4, 40, 4);
        chart.addSubtitle(legend);
        chart.setBackgroundPaint(Color.WHITE);
        int side = Math.max(420, 46 * n + 160);
        return png(chart, side + 90, side);
    }

    /** White (0) to dark blue (1). */
    private static final class Shares implements PaintScale {
        @Override
        public double getLowerBound() {
            return 0;
        }

        @Override
        public double getUpperBound() {
            return 1;
        }

        @Override
        public Paint getPaint(double value) {
            double v = Math.max(0, Math.min(1, value));
            return new Color((int) Math.round(255 - v * (255 - 0x08)), (int) Math.round(255 - v * (255 - 0x30)),
                    (int) Math.round(255 - v * (255 - 0x6B)));
        }
    }

    private static byte[] png(JFreeChart chart, int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(out, chart, width, height);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot draw the chart '" + chart.getTitle().getText() + "': " + e.getMessage(), e);
        }
        return out.toByteArray();
    }
}
