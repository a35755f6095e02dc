package dev.imgtrain.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * A run's {@code metrics.jsonl} as columns. Runs from before the Keras-style history have {@code train_loss} (one
 * mini-batch's score) and no training accuracy: their loss column is read from it and accuracy is NaN (not drawn).
 */
record History(int[] epochs, double[] loss, double[] accuracy, double[] valLoss, double[] valAccuracy, double[] seconds,
               double[] examplesPerSecond) {

    static History of(JsonNode metrics) {
        int n = metrics.size();
        History h = new History(new int[n], new double[n], new double[n], new double[n], new double[n], new double[n],
                new double[n]);
        for (int i = 0; i < n; i++) {
            JsonNode m = metrics.get(i);
            h.epochs[i] = m.path("epoch").asInt(i + 1);
            h.loss[i] = number(m.has("loss") ? m.get("loss") : m.get("train_loss"));
            h.accuracy[i] = number(m.get("accuracy"));
            h.valLoss[i] = number(m.get("val_loss"));
            h.valAccuracy[i] = number(m.get("val_accuracy"));
            h.seconds[i] = number(m.get("epoch_seconds"));
            h.examplesPerSecond[i] = number(m.get("examples_per_second"));
        }
        return h;
    }

    private static double number(JsonNode node) {
        return node == null || !node.isNumber() ? Double.NaN : node.asDouble();
    }

    double meanExamplesPerSecond() {
        return java.util.Arrays.stream(examplesPerSecond).filter(v -> !Double.isNaN(v)).average().orElse(Double.NaN);
    }

    List<RunReportView.HistoryRow> rows() {
        List<RunReportView.HistoryRow> rows = new ArrayList<>();
        for (int i = 0; i < epochs.length; i++) {
            rows.add(new RunReportView.HistoryRow(epochs[i], f4(loss[i]), f4(accuracy[i]), f4(valLoss[i]),
                    f4(valAccuracy[i]), String.format("%.1f", seconds[i]), String.format("%,.0f", examplesPerSecond[i])));
        }
        return rows;
    }

    private static String f4(double v) {
        return Double.isNaN(v) ? "–" : String.format("%.4f", v);
    }
}
