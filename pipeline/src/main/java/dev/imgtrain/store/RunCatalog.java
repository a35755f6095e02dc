package dev.imgtrain.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What a warehouse's committed runs are: a run is listed only when its {@code _SUCCESS} marker exists (training
 * writes it last), so a run that failed or was killed is never shown. Reads params.json, metrics.jsonl and, when the
 * run was evaluated, evaluation.json; and where its report is, when it has one.
 */
public final class RunCatalog {
    private final Warehouse warehouse;

    public RunCatalog(Warehouse warehouse) {
        this.warehouse = warehouse;
    }

    /** One line of {@code runs list}; accuracy and loss are null for a run not evaluated yet. */
    public record Summary(String runId, String dataset, String preset, String createdAt, int epochs,
                          Double accuracy, Double loss) {
    }

    public List<Summary> list() {
        List<Summary> runs = new ArrayList<>();
        for (String id : warehouse.committedRuns()) {
            runs.add(summary(id, details(id)));
        }
        return runs;
    }

    /** params, metrics (one object per epoch) and evaluation (or null) of a committed run. */
    public ObjectNode details(String runId) {
        Path dir = warehouse.runDir(runId);
        if (!warehouse.committed(dir)) {
            throw new IllegalStateException("run '" + runId + "' is not a committed run in " + warehouse.root()
                    + " (no " + new Path(dir, Warehouse.SUCCESS) + "): it does not exist, or its training did not finish;"
                    + " `imgtrain runs list` shows the committed ones");
        }
        ObjectNode node = Warehouse.JSON.createObjectNode();
        node.set("params", read(new Path(dir, "params.json")));
        ArrayNode metrics = node.putArray("metrics");
        Path metricsFile = new Path(dir, "metrics.jsonl");
        if (warehouse.exists(metricsFile)) {
            for (String line : text(metricsFile).split("\n")) {
                if (!line.isBlank()) {
                    metrics.add(parse(metricsFile, line));
                }
            }
        }
        Path evaluation = new Path(dir, "evaluation.json");
        node.set("evaluation", warehouse.exists(evaluation) ? read(evaluation) : null);
        node.put("train_seconds", trainSeconds(dir, node.get("params")));
        Path report = new Path(dir, "report/index.html");
        if (warehouse.exists(report)) {
            node.put("report", report.toString());
        } else {
            node.putNull("report");
        }
        return node;
    }

    /** Training's wall time: from params.json's {@code created_at} to the run's {@code _SUCCESS} marker (NaN if unknown). */
    private double trainSeconds(Path dir, JsonNode params) {
        try {
            long end = warehouse.fs().getFileStatus(new Path(dir, Warehouse.SUCCESS)).getModificationTime();
            return Math.max(0, end - java.time.Instant.parse(params.path("created_at").asText()).toEpochMilli()) / 1000.0;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        } catch (java.time.format.DateTimeParseException e) {
            return Double.NaN;
        }
    }

    private static Summary summary(String id, JsonNode d) {
        JsonNode p = d.get("params");
        JsonNode e = d.get("evaluation");
        boolean evaluated = e != null && !e.isNull();
        return new Summary(id, p.path("dataset").asText(""), p.path("preset").asText(""), p.path("created_at").asText(""),
                d.get("metrics").size(), evaluated ? e.get("accuracy").asDouble() : null,
                evaluated ? e.get("loss").asDouble() : null);
    }

    private JsonNode read(Path path) {
        return parse(path, text(path));
    }

    private static JsonNode parse(Path path, String json) {
        try {
            return Warehouse.JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private String text(Path path) {
        try (InputStream in = warehouse.fs().open(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read: " + e.getMessage(), e);
        }
    }
}
