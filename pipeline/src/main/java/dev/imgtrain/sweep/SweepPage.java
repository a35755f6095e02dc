package dev.imgtrain.sweep;

import dev.imgtrain.report.Charts;
import dev.imgtrain.report.ReportPage;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.Path;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code sweeps/<id>/index.html}: the leaderboard as a sorted table (best trial marked, each row linking to its run's
 * report), the validation-accuracy curves of all trials overlaid, and final validation accuracy against each swept
 * parameter. Charts by JFreeChart, HTML from {@code sweep.mustache}; nothing is fetched from the network.
 */
final class SweepPage {
    private SweepPage() {
    }

    /** The page's view: already formatted strings; the template only places them. */
    public record View(String sweepId, int trials, int done, int failed, String best, String bestAccuracy,
                       List<String> keys, List<ViewRow> rows, String curves, List<Chart> parameterCharts,
                       String specText, String generatedAt, String rankedOn, String asha) {
    }

    public record ViewRow(int rank, boolean best, boolean done, String runId, String report, String status,
                          List<String> params, String finalValAccuracy, String finalValLoss, String bestValAccuracy,
                          String bestValLoss, String bestEpoch, String testAccuracy, String epochs, String trainSeconds,
                          String examplesPerSecond, String reason, String validation, String rungMetrics,
                          String outcome) {
    }

    public record Chart(String file, String key) {
    }

    /** Which split ranked the trials, in words, warning where it was the test split (trials from before issue 28). */
    static String rankedOn(Leaderboard board) {
        List<String> splits = board.validationSplits();
        String ranked = "Ranked by the committed model's validation accuracy on " + (splits.isEmpty() ? "the validation split"
                : String.join(" / ", splits)) + ". Test accuracy is shown beside it and is not used for the ranking.";
        if (splits.contains(dev.imgtrain.train.TrainJob.TEST_SPLIT)) {
            ranked += " Trials marked \"test split\" held nothing out of train (train.validation-fraction = 0, as sweeps did "
                    + "before): their ranking looked at the test set, so their test accuracy overstates; run the sweep "
                    + "again to rank them on a hold-out.";
        }
        return ranked;
    }

    static Path write(SweepSpec spec, Leaderboard board, Warehouse warehouse, Path dir) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        int maxEpochs = board.rows().stream().mapToInt(r -> r.valAccuracy().size()).max().orElse(0);
        String curves = null;
        if (maxEpochs > 0) {
            int[] epochs = new int[maxEpochs];
            for (int e = 0; e < maxEpochs; e++) {
                epochs[e] = e + 1;
            }
            List<Charts.Curve> lines = new ArrayList<>();
            int rank = 0;
            for (Leaderboard.Row r : board.rows()) {
                rank++;
                if (!r.valAccuracy().isEmpty()) {
                    double[] values = new double[maxEpochs];
                    java.util.Arrays.fill(values, Double.NaN);
                    for (int e = 0; e < r.valAccuracy().size(); e++) {
                        values[e] = r.valAccuracy().get(e);
                    }
                    lines.add(new Charts.Curve("#" + rank + " " + shortLabel(r), values));
                }
            }
            files.put("val-accuracy.png", Charts.epochCurves("Validation accuracy per epoch, all trials",
                    "val accuracy", epochs, lines, spec.asha() == null ? List.of() : spec.asha().rungs()));
            curves = "val-accuracy.png";
        }
        List<Chart> parameterCharts = new ArrayList<>();
        for (int k = 0; k < board.keys().size(); k++) {
            String key = board.keys().get(k);
            List<String> xs = new ArrayList<>();
            double[] ys = new double[board.rows().size()];
            for (int i = 0; i < board.rows().size(); i++) {
                Leaderboard.Row r = board.rows().get(i);
                xs.add(r.params().get(key));
                ys[i] = r.finalValAccuracy() == null ? Double.NaN : r.finalValAccuracy();
            }
            String file = "param-" + (k + 1) + ".png";
            files.put(file, Charts.scatter("final val accuracy by " + key, key, "final val accuracy", xs, ys));
            parameterCharts.add(new Chart(file, key));
        }
        List<ViewRow> rows = new ArrayList<>();
        Leaderboard.Row best = board.best();
        for (int i = 0; i < board.rows().size(); i++) {
            Leaderboard.Row r = board.rows().get(i);
            boolean done = r.status().equals("done");
            // A trial ASHA stopped at a rung has no report unless one was made (imgtrain report --run ID).
            boolean reported = done && warehouse.exists(new Path(warehouse.runDir(r.runId()), "report/index.html"));
            rows.add(new ViewRow(i + 1, r == best, done, r.runId(), reported ? "../../runs/" + r.runId() + "/report/index.html" : null,
                    r.status(), new ArrayList<>(r.params().values()), f4(r.finalValAccuracy()), f4(r.finalValLoss()),
                    f4(r.bestValAccuracy()), f4(r.bestValLoss()), r.bestEpoch() == null ? "" : r.bestEpoch().toString(),
                    f4(r.testAccuracy()), r.epochs() == null ? "" : r.epochs().toString(),
                    r.trainSeconds() == null ? "" : String.format(Locale.ROOT, "%.1f", r.trainSeconds()),
                    r.examplesPerSecond() == null ? "" : String.format(Locale.ROOT, "%,.0f", r.examplesPerSecond()),
                    r.reason() == null ? "" : r.reason(), r.validation() == null ? "" : r.validation().replace(" of train", ""),
                    r.rungMetrics() == null ? "" : r.rungMetrics(), r.outcome() == null ? "" : r.outcome()));
        }
        View view = new View(spec.id(), board.rows().size(), board.rows().size() - board.failed(), board.failed(),
                best == null ? "none" : best.runId(), best == null ? "" : f4(best.finalValAccuracy()), board.keys(), rows,
                curves, parameterCharts, spec.text(), Instant.now().toString(), rankedOn(board), spec.asha() == null ? null
                        : String.format(Locale.ROOT, "ASHA: rungs at epoch %s; at each rung the best 1/%d of the trials that "
                                + "reached it are promoted and resume from their checkpoint, the others stop there; up to %d "
                                + "epochs; by %s (%s). A stopped trial's curve ends at its rung.",
                        spec.asha().rungs().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")),
                        spec.asha().reductionFactor(), spec.asha().maxEpochs(), spec.asha().metric(), spec.asha().mode()));
        files.put("index.html", ReportPage.render("sweep.mustache", view));
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            warehouse.writeAtomically(new Path(dir, f.getKey()), f.getValue());
        }
        return new Path(dir, "index.html");
    }

    /** A trial's legend entry: its swept values (units only, for layer lists), shortened; the rank makes it unique. */
    private static String shortLabel(Leaderboard.Row r) {
        List<String> parts = new ArrayList<>();
        r.params().forEach((k, v) -> parts.add(k.substring(k.lastIndexOf('.') + 1) + "="
                + v.replaceAll("\\{\"activation\":\"[a-z]+\",\"units\":(\\d+)}", "$1")));
        String label = String.join(", ", parts);
        return label.length() > 50 ? label.substring(0, 47) + "..." : label;
    }

    private static String f4(Double v) {
        return v == null ? "" : String.format(Locale.ROOT, "%.4f", v);
    }
}
