package dev.imgtrain.report;

import java.util.List;

/**
 * What {@code run-report.mustache} shows, already formatted: the template only places it. Image fields are file names
 * beside {@code index.html}; null (or an empty list) leaves a section out.
 */
public record RunReportView(String runId, String dataset, String preset, String createdAt, String testAccuracy,
                            String testLoss, long testExamples, String split, int epochs, String wallTime,
                            String examplesPerSecond, List<HistoryRow> history, boolean historyHasLr, String ended,
                            String accuracyChart, String lossChart,
                            String trainGrid, String testGrid, String mistakesGrid, String confusionChart,
                            List<ClassRow> perClass, List<NetworkSummaryRow> layers, String totalParams,
                            String summaryText, List<KeyValue> parameters, List<SourceRow> sources,
                            List<KeyValue> versions, String generatedAt) {

    /** One epoch of the history table. */
    public record HistoryRow(int epoch, String loss, String accuracy, String valLoss, String valAccuracy,
                             String seconds, String examplesPerSecond, String lr) {
    }

    /** One class of the evaluation table. */
    public record ClassRow(String name, String precision, String recall, String f1, long support) {
    }

    /** One layer of the network summary. */
    public record NetworkSummaryRow(String layer, String outputShape, String activation, String params) {
    }

    /** One archive the dataset was ingested from. */
    public record SourceRow(String file, long bytes, String sha256) {
    }

    public record KeyValue(String key, String value) {
    }
}
