package dev.imgtrain.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgtrain.store.RunCatalog;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.TrainJob;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A sweep's leaderboard: one row per trial of the spec, from its run's files (or its failure record), best final
 * validation accuracy first, failed and missing trials last. The ranking reads the validation split only: test accuracy
 * is shown beside it and never used ({@link #rank}). Trials run since issue 28 validate on a hold-out of the training
 * set; older ones validated on the test split, and their {@code validation} column says so. Written as {@code leaderboard.csv} and
 * {@code leaderboard.json} (for tools without a Parquet reader, such as the notebooks) and {@code leaderboard.parquet}.
 */
record Leaderboard(List<String> keys, List<Row> rows, boolean asha) {

    Leaderboard(List<String> keys, List<Row> rows) {
        this(keys, rows, false);
    }

    /** One trial. Figures are null for a trial without a committed, evaluated run. */
    record Row(String runId, String status, Map<String, String> params, Double finalValAccuracy, Double finalValLoss,
               Double bestValAccuracy, Double bestValLoss, Integer bestEpoch, Double testAccuracy, Integer epochs,
               Double trainSeconds, Double examplesPerSecond, String reason, List<Double> valAccuracy, String validation,
               Integer rung, String rungMetrics, String outcome) {
        Row(String runId, String status, Map<String, String> params, Double finalValAccuracy, Double finalValLoss,
            Double bestValAccuracy, Double bestValLoss, Integer bestEpoch, Double testAccuracy, Integer epochs,
            Double trainSeconds, Double examplesPerSecond, String reason, List<Double> valAccuracy, String validation) {
            this(runId, status, params, finalValAccuracy, finalValLoss, bestValAccuracy, bestValLoss, bestEpoch, testAccuracy,
                    epochs, trainSeconds, examplesPerSecond, reason, valAccuracy, validation, null, null, null);
        }

        /** This row with ASHA's columns: the highest rung reached, the metric at each rung, how it ended. */
        Row withAsha(Integer rung, String rungMetrics, String outcome) {
            return new Row(runId, status, params, finalValAccuracy, finalValLoss, bestValAccuracy, bestValLoss, bestEpoch,
                    testAccuracy, epochs, trainSeconds, examplesPerSecond, reason, valAccuracy, validation, rung, rungMetrics,
                    outcome);
        }
    }

    /** ASHA's columns (an ASHA sweep's leaderboard only), after the figures. */
    static final List<String> ASHA_COLUMNS = List.of("rung", "rung_metrics", "outcome");

    /**
     * The figures' columns. final_val_*: the committed model's (its last epoch's, or the epoch restore-best-weights
     * restored); validation: the split they are on ("hold-out 0.1 of train", or "test split" for trials from before).
     */
    static final List<String> FIGURES = List.of("final_val_accuracy", "final_val_loss", "best_val_accuracy",
            "best_val_loss", "best_epoch", "test_accuracy", "validation", "epochs", "train_seconds", "examples_per_second");

    static Leaderboard of(SweepSpec spec, Warehouse warehouse) {
        RunCatalog catalog = new RunCatalog(warehouse);
        List<Row> rows = new ArrayList<>();
        for (SweepSpec.Trial trial : spec.trials()) {
            Map<String, String> params = new LinkedHashMap<>();
            trial.params().forEach((k, v) -> params.put(k, SweepSpec.render(v)));
            Path failure = new Path(SweepJob.sweepDir(warehouse, spec.id()), "failed/" + trial.runId() + ".json");
            boolean done = warehouse.committed(warehouse.runDir(trial.runId()))
                    && warehouse.exists(new Path(warehouse.runDir(trial.runId()), "evaluation.json"));
            if (!done) {
                String reason = warehouse.exists(failure)
                        ? warehouse.readJson(failure, JsonNode.class).path("reason").asText() : "not run";
                rows.add(new Row(trial.runId(), warehouse.exists(failure) ? "failed" : "missing", params, null, null,
                        null, null, null, null, null, null, null, reason, List.of(), null));
                continue;
            }
            ObjectNode run = catalog.details(trial.runId());
            List<Double> valAccuracy = new ArrayList<>();
            double bestAcc = Double.NEGATIVE_INFINITY;
            double bestLoss = Double.POSITIVE_INFINITY;
            int bestEpoch = 0;
            double speed = 0;
            for (JsonNode m : run.get("metrics")) {
                double acc = m.path("val_accuracy").asDouble();
                valAccuracy.add(acc);
                if (acc > bestAcc) {
                    bestAcc = acc;
                    bestEpoch = m.path("epoch").asInt();
                }
                bestLoss = Math.min(bestLoss, m.path("val_loss").asDouble());
                speed += m.path("examples_per_second").asDouble();
            }
            JsonNode metrics = run.get("metrics");
            int epochs = metrics.size();
            JsonNode last = metrics.get(epochs - 1);
            // The committed model's epoch: the last, or the one restore-best-weights restored.
            JsonNode model = last.hasNonNull("restored_epoch") && last.get("restored_epoch").asInt() <= epochs
                    ? metrics.get(last.get("restored_epoch").asInt() - 1) : last;
            double fraction = run.path("params").path("config").path("train").path("validation-fraction").asDouble(0);
            rows.add(new Row(trial.runId(), "done", params, model.path("val_accuracy").asDouble(),
                    model.path("val_loss").asDouble(), bestAcc, bestLoss, bestEpoch,
                    run.get("evaluation").path("accuracy").asDouble(), epochs, run.path("train_seconds").asDouble(),
                    speed / epochs, null, valAccuracy, TrainJob.validationName(fraction)));
        }
        if (spec.asha() != null) {
            withAsha(spec, rows, AshaGate.read(warehouse, new Path(SweepJob.sweepDir(warehouse, spec.id()), "asha.jsonl")));
        }
        rank(rows);
        return new Leaderboard(spec.sweptKeys(), rows, spec.asha() != null);
    }

    /**
     * Fills ASHA's columns from its record: the highest rung reached ({@code rungs().size()} for a completed trial), the
     * metric at each rung, and how the trial ended.
     */
    private static void withAsha(SweepSpec spec, List<Row> rows, List<AshaGate.Event> events) {
        SweepSpec.Asha asha = spec.asha();
        rows.replaceAll(r -> {
            List<AshaGate.Event> results = events.stream().filter(e -> e.result() && e.runId().equals(r.runId()))
                    .sorted(Comparator.comparingInt(AshaGate.Event::rung)).toList();
            if (results.isEmpty()) {
                return r;
            }
            AshaGate.Event top = results.get(results.size() - 1);
            String metrics = String.join(" / ", results.stream().map(e -> String.format(Locale.ROOT, "%.4f", e.metric())).toList());
            boolean done = r.status().equals("done");
            boolean completed = done && r.epochs() != null && r.epochs() == asha.maxEpochs();
            String outcome = completed ? "completed (" + asha.maxEpochs() + " epochs)"
                    : (done ? "stopped" : "paused") + " at rung " + top.rung() + " (" + top.epochs() + " epoch"
                    + (top.epochs() == 1 ? "" : "s") + ")";
            return r.withAsha(completed ? asha.rungs().size() : top.rung(), metrics, outcome);
        });
    }

    /**
     * Sorts best first by the committed model's validation accuracy (then run id, for ties), trials without one last.
     * Nothing else enters: test accuracy never does.
     */
    static void rank(List<Row> rows) {
        rows.sort(Comparator.comparing((Row r) -> r.finalValAccuracy() == null)
                .thenComparing(r -> r.finalValAccuracy() == null ? 0 : -r.finalValAccuracy())
                .thenComparing(Row::runId));
    }

    /** The validation splits the done trials were ranked on, in order of first appearance. */
    List<String> validationSplits() {
        return rows.stream().map(Row::validation).filter(java.util.Objects::nonNull).distinct().toList();
    }

    /** The best trial (highest final validation accuracy), or null when none is done. */
    Row best() {
        return rows.isEmpty() || rows.get(0).finalValAccuracy() == null ? null : rows.get(0);
    }

    int failed() {
        return (int) rows.stream().filter(r -> !r.status().equals("done")).count();
    }

    void write(SparkSession spark, Warehouse warehouse, Path dir) {
        warehouse.writeText(new Path(dir, "leaderboard.csv"), csv());
        List<Map<String, Object>> json = new ArrayList<>();
        for (Row r : rows) {
            json.add(record(r));
        }
        warehouse.writeJson(new Path(dir, "leaderboard.json"), json);
        writeParquet(spark, warehouse, new Path(dir, "leaderboard.parquet"));
    }

    /** A row as the CSV and JSON have it: run_id, status, the swept keys as named in the spec, the figures, reason. */
    Map<String, Object> record(Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run_id", r.runId());
        m.put("status", r.status());
        m.putAll(r.params());
        m.put("final_val_accuracy", r.finalValAccuracy());
        m.put("final_val_loss", r.finalValLoss());
        m.put("best_val_accuracy", r.bestValAccuracy());
        m.put("best_val_loss", r.bestValLoss());
        m.put("best_epoch", r.bestEpoch());
        m.put("test_accuracy", r.testAccuracy());
        m.put("validation", r.validation());
        m.put("epochs", r.epochs());
        m.put("train_seconds", r.trainSeconds());
        m.put("examples_per_second", r.examplesPerSecond());
        if (asha) {
            m.put("rung", r.rung());
            m.put("rung_metrics", r.rungMetrics());
            m.put("outcome", r.outcome());
        }
        m.put("reason", r.reason());
        return m;
    }

    String csv() {
        List<String> header = new ArrayList<>(List.of("run_id", "status"));
        header.addAll(keys);
        header.addAll(FIGURES);
        if (asha) {
            header.addAll(ASHA_COLUMNS);
        }
        header.add("reason");
        StringBuilder s = new StringBuilder(String.join(",", header.stream().map(Leaderboard::quote).toList())).append('\n');
        for (Row r : rows) {
            List<String> cells = new ArrayList<>();
            for (Object v : record(r).values()) {
                cells.add(v == null ? "" : v instanceof Double d ? String.format(Locale.ROOT, "%.6g", d) : quote(v.toString()));
            }
            s.append(String.join(",", cells)).append('\n');
        }
        return s.toString();
    }

    private static String quote(String cell) {
        return cell.matches("[^,\"\\n\\r]*") ? cell : "\"" + cell.replace("\"", "\"\"") + "\"";
    }

    /** Parquet through Spark's writer, into scratch, then committed; swept keys as columns with '_' for '.' and '-'. */
    private void writeParquet(SparkSession spark, Warehouse warehouse, Path target) {
        StructType schema = new StructType().add("run_id", DataTypes.StringType, false).add("status", DataTypes.StringType, false);
        for (String key : keys) {
            schema = schema.add(key.replaceAll("[.-]", "_"), DataTypes.StringType);
        }
        for (String figure : FIGURES) {
            DataType type = figure.equals("best_epoch") || figure.equals("epochs") ? DataTypes.IntegerType
                    : figure.equals("validation") ? DataTypes.StringType : DataTypes.DoubleType;
            schema = schema.add(figure, type);
        }
        if (asha) {
            schema = schema.add("rung", DataTypes.IntegerType).add("rung_metrics", DataTypes.StringType)
                    .add("outcome", DataTypes.StringType);
        }
        schema = schema.add("reason", DataTypes.StringType);
        List<org.apache.spark.sql.Row> data = new ArrayList<>();
        for (Row r : rows) {
            data.add(RowFactory.create(record(r).values().toArray()));
        }
        try (Scratch.Dir scratch = Scratch.open(warehouse, "leaderboard")) {
            spark.createDataFrame(data, schema).coalesce(1).write().parquet(scratch.path().toString());
            warehouse.commitDirectory(scratch.path(), target);
        }
    }
}
