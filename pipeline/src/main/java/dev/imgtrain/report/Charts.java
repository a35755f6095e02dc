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

/** The report's charts, drawn by JFreeChart as PNG: per-epoch curves (train against validation) and the confusion heat map. */
final class Charts {
    private static final Color TRAIN = new Color(0x1F, 0x77, 0xB4);
    private static final Color VALIDATION = new Color(0xFF, 0x7F, 0x0E);

    private Charts() {
    }

    /** One curve: its name and a value per epoch (NaN where the run has none; such points are left out). */
    record Curve(String name, double[] values) {
    }

    /**
     * Values per epoch (epoch 1 first), one line each; the first curve in the training colour, the second in the
     * validation colour, as Keras' plotted history.
     */
    static byte[] epochCurves(String title, String yLabel, int[] epochs, List<Curve> curves) {
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
        Color[] colours = {TRAIN, VALIDATION};
        for (int i = 0; i < curves.size(); i++) {
            renderer.setSeriesPaint(i, colours[i % colours.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 15), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        return png(chart, 560, 360);
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
