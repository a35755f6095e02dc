package dev.imgtrain.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * A run's {@code metrics.jsonl} as columns. Runs from before the Keras-style history have {@code train_loss} (one
 * mini-batch's score) and no training accuracy: their loss column is read from it and accuracy is NaN (not drawn).
 */
record History(int[] epochs, double[] loss, double[] accuracy, double[] valLoss, double[] valAccuracy, double[] seconds,
               double[] examplesPerSecond, double[] lr, String end) {

    static History of(JsonNode metrics) {
        int n = metrics.size();
        History h = new History(new int[n], new double[n], new double[n], new double[n], new double[n], new double[n],
                new double[n], new double[n], end(metrics));
        for (int i = 0; i < n; i++) {
            JsonNode m = metrics.get(i);
            h.epochs[i] = m.path("epoch").asInt(i + 1);
            h.loss[i] = number(m.has("loss") ? m.get("loss") : m.get("train_loss"));
            h.accuracy[i] = number(m.get("accuracy"));
            h.valLoss[i] = number(m.get("val_loss"));
            h.valAccuracy[i] = number(m.get("val_accuracy"));
            h.seconds[i] = number(m.get("epoch_seconds"));
            h.examplesPerSecond[i] = number(m.get("examples_per_second"));
            h.lr[i] = number(m.get("lr"));
        }
        return h;
    }

    /**
     * How training ended, from the last line (issue 28): why it stopped before the epochs asked for, and which epoch's
     * weights the model has when restore-best-weights chose another one; null when it trained every epoch and kept them.
     */
    private static String end(JsonNode metrics) {
        if (metrics.size() == 0) {
            return null;
        }
        JsonNode last = metrics.get(metrics.size() - 1);
        List<String> parts = new ArrayList<>();
        if (last.hasNonNull("stop_reason")) {
            parts.add("Training stopped after epoch " + last.path("epoch").asInt() + ": " + last.get("stop_reason").asText() + ".");
        }
        if (last.hasNonNull("restored_epoch")) {
            parts.add("The model has the weights of epoch " + last.get("restored_epoch").asInt()
                    + " (restore-best-weights), not those of the last epoch.");
        }
        return parts.isEmpty() ? null : String.join(" ", parts);
    }

    /** Whether the epochs recorded their learning rate (runs since issue 28). */
    boolean hasLr() {
        return java.util.Arrays.stream(lr).anyMatch(v -> !Double.isNaN(v));
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
                    f4(valAccuracy[i]), String.format("%.1f", seconds[i]), String.format("%,.0f", examplesPerSecond[i]),
                    Double.isNaN(lr[i]) ? "–" : new java.math.BigDecimal(lr[i]).round(new java.math.MathContext(4))
                            .stripTrailingZeros().toPlainString()));
        }
        return rows;
    }

    private static String f4(double v) {
        return Double.isNaN(v) ? "–" : String.format("%.4f", v);
    }
}
