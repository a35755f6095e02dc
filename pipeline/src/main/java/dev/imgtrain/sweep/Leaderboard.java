package dev.imgtrain.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgtrain.store.RunCatalog;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.Warehouse;
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
 * validation accuracy first, failed and missing trials last. Written as {@code leaderboard.csv} and
 * {@code leaderboard.json} (for tools without a Parquet reader, such as the notebooks) and {@code leaderboard.parquet}.
 */
record Leaderboard(List<String> keys, List<Row> rows) {

    /** One trial. Figures are null for a trial without a committed, evaluated run. */
    record Row(String runId, String status, Map<String, String> params, Double finalValAccuracy, Double finalValLoss,
               Double bestValAccuracy, Double bestValLoss, Integer bestEpoch, Double testAccuracy, Integer epochs,
               Double trainSeconds, Double examplesPerSecond, String reason, List<Double> valAccuracy) {
    }

    static final List<String> FIGURES = List.of("final_val_accuracy", "final_val_loss", "best_val_accuracy",
            "best_val_loss", "best_epoch", "test_accuracy", "epochs", "train_seconds", "examples_per_second");

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
                        null, null, null, null, null, null, null, reason, List.of()));
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
            JsonNode last = run.get("metrics").get(run.get("metrics").size() - 1);
            int epochs = run.get("metrics").size();
            rows.add(new Row(trial.runId(), "done", params, last.path("val_accuracy").asDouble(),
                    last.path("val_loss").asDouble(), bestAcc, bestLoss, bestEpoch,
                    run.get("evaluation").path("accuracy").asDouble(), epochs, run.path("train_seconds").asDouble(),
                    speed / epochs, null, valAccuracy));
        }
        rows.sort(Comparator.comparing((Row r) -> r.finalValAccuracy() == null)
                .thenComparing(r -> r.finalValAccuracy() == null ? 0 : -r.finalValAccuracy())
                .thenComparing(Row::runId));
        return new Leaderboard(spec.sweptKeys(), rows);
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
        m.put("epochs", r.epochs());
        m.put("train_seconds", r.trainSeconds());
        m.put("examples_per_second", r.examplesPerSecond());
        m.put("reason", r.reason());
        return m;
    }

    String csv() {
        List<String> header = new ArrayList<>(List.of("run_id", "status"));
        header.addAll(keys);
        header.addAll(FIGURES);
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
            DataType type = figure.equals("best_epoch") || figure.equals("epochs") ? DataTypes.IntegerType : DataTypes.DoubleType;
            schema = schema.add(figure, type);
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
