package dev.imgtrain.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgtrain.store.Lease;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every run directory of a warehouse as the UI shows it, committed or not, read through the warehouse's Hadoop
 * FileSystem (no Spark). One listing of {@code runs/} and one of {@code _locks/} per call; a run's own files are read
 * once it is finished (committed, evaluated and reported: nothing is written to it after that) and kept, so a
 * warehouse of thousands of runs lists in one directory listing plus the runs that changed. A file that cannot be
 * read or parsed is reported on the run ({@link Run#problems()}), never thrown: one bad run does not hide the others.
 */
final class RunIndex {
    /** How a run stands: committed ({@code _SUCCESS}), training (its run lock has a live holder), or neither. */
    enum Status {
        COMMITTED, TRAINING, UNCOMMITTED;

        /** As pages, the API and the CSS name it: committed, training, uncommitted. */
        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One run as read: its files' content (params, metrics, evaluation may be null) and what was wrong with them. */
    record Run(String id, Status status, JsonNode params, List<JsonNode> metrics, JsonNode evaluation,
               boolean report, long successMillis, List<String> problems) {
        boolean finished() {
            return status == Status.COMMITTED && evaluation != null && report && problems.isEmpty();
        }

        String dataset() {
            return params == null ? "" : params.path("dataset").asText("");
        }

        String preset() {
            return params == null ? "" : params.path("preset").asText("");
        }

        int epochsAsked() {
            return params == null ? 0 : params.path("config").path("train").path("epochs").asInt(0);
        }

        int workers() {
            return params == null ? 0 : params.path("config").path("train").path("workers").asInt(0);
        }

        String createdAt() {
            return params == null ? "" : params.path("created_at").asText("");
        }

        String commit() {
            return params == null ? "" : params.path("versions").path("git_commit").asText("");
        }

        Double testAccuracy() {
            return evaluation == null || !evaluation.path("accuracy").isNumber() ? null : evaluation.get("accuracy").asDouble();
        }

        Double finalValAccuracy() {
            return metrics.isEmpty() || !metrics.get(metrics.size() - 1).path("val_accuracy").isNumber() ? null
                    : metrics.get(metrics.size() - 1).get("val_accuracy").asDouble();
        }

        /** Training's wall time: params' created_at to _SUCCESS when committed, else the sum of the epochs so far. */
        Double wallSeconds() {
            if (status == Status.COMMITTED && successMillis > 0 && params != null) {
                try {
                    return Math.max(0, successMillis - Instant.parse(createdAt()).toEpochMilli()) / 1000.0;
                } catch (RuntimeException unparsable) {
                    return null;
                }
            }
            double sum = 0;
            for (JsonNode m : metrics) {
                sum += m.path("epoch_seconds").asDouble(0);
            }
            return metrics.isEmpty() ? null : sum;
        }
    }

    /** Threads that read runs' files (I/O-bound: more than the cores). */
    private static final java.util.concurrent.ExecutorService READERS = java.util.concurrent.Executors.newFixedThreadPool(8, r -> {
        Thread t = new Thread(r, "imgtrain-ui-read");
        t.setDaemon(true);
        return t;
    });
    private final Warehouse warehouse;
    private final Map<String, Run> finished = new ConcurrentHashMap<>();

    RunIndex(Warehouse warehouse) {
        this.warehouse = warehouse;
    }

    /** Every directory under runs/, newest first (by created_at, then id). */
    List<Run> runs() throws IOException {
        Path dir = warehouse.runsDir();
        FileStatus[] children;
        try {
            children = warehouse.fs().listStatus(dir);
        } catch (FileNotFoundException none) {
            finished.clear();
            return List.of();
        }
        Set<String> locked = lockedRuns();
        List<Run> runs = new ArrayList<>();
        Set<String> present = new HashSet<>();
        List<java.util.concurrent.Future<Run>> reading = new ArrayList<>();
        for (FileStatus child : children) {
            if (!child.isDirectory()) {
                continue;
            }
            String id = child.getPath().getName();
            present.add(id);
            Run cached = finished.get(id);
            if (cached != null) {
                runs.add(cached);
            } else {
                // Reading is waiting on the file system (an object store's round trips above all): several at once.
                reading.add(READERS.submit(() -> read(id, locked.contains(id))));
            }
        }
        for (java.util.concurrent.Future<Run> r : reading) {
            try {
                runs.add(r.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while reading runs", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }
        finished.keySet().retainAll(present);
        runs.sort(Comparator.comparing(Run::createdAt).reversed().thenComparing(Run::id));
        return runs;
    }

    /** One run, or empty when runs/ has no directory of that name. */
    Optional<Run> run(String id) throws IOException {
        Run cached = finished.get(id);
        if (cached != null) {
            return Optional.of(cached);
        }
        try {
            if (!warehouse.fs().getFileStatus(warehouse.runDir(id)).isDirectory()) {
                return Optional.empty();
            }
        } catch (FileNotFoundException none) {
            return Optional.empty();
        }
        return Optional.of(read(id, lockedRuns().contains(id)));
    }

    /** The names of the files of a run's report directory (empty when it has none). */
    List<String> reportFiles(String id) throws IOException {
        List<String> names = new ArrayList<>();
        try {
            for (FileStatus f : warehouse.fs().listStatus(new Path(warehouse.runDir(id), "report"))) {
                if (f.isFile()) {
                    names.add(f.getPath().getName());
                }
            }
        } catch (FileNotFoundException none) {
            return names;
        }
        names.sort(String::compareTo);
        return names;
    }

    /** Run ids whose lock file ({@code _locks/run-<id>.lock}) names a live holder. */
    private Set<String> lockedRuns() throws IOException {
        Set<String> ids = new HashSet<>();
        FileStatus[] locks;
        try {
            locks = warehouse.fs().listStatus(new Path(warehouse.root(), "_locks"));
        } catch (FileNotFoundException none) {
            return ids;
        }
        for (FileStatus lock : locks) {
            String name = lock.getPath().getName();
            if (name.startsWith("run-") && name.endsWith(".lock")) {
                String id = name.substring(4, name.length() - 5);
                if (Lease.holder(warehouse, lock.getPath()).map(Lease.Holder::alive).orElse(false)) {
                    ids.add(id);
                }
            }
        }
        return ids;
    }

    private Run read(String id, boolean locked) throws IOException {
        Path dir = warehouse.runDir(id);
        Map<String, FileStatus> files = new HashMap<>();
        for (FileStatus f : warehouse.fs().listStatus(dir)) {
            files.put(f.getPath().getName(), f);
        }
        List<String> problems = new ArrayList<>();
        JsonNode params = files.containsKey("params.json") ? json(new Path(dir, "params.json"), problems) : null;
        if (!files.containsKey("params.json")) {
            problems.add("no params.json (the run's training never started writing)");
        }
        List<JsonNode> metrics = new ArrayList<>();
        if (files.containsKey("metrics.jsonl")) {
            Path file = new Path(dir, "metrics.jsonl");
            String[] lines = text(file, problems).split("\n");
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].isBlank()) {
                    continue;
                }
                try {
                    JsonNode m = Warehouse.JSON.readTree(lines[i]);
                    if (!m.isObject() || !m.path("epoch").isNumber()) {
                        problems.add("metrics.jsonl line " + (i + 1) + " is not an epoch's metrics; it was skipped");
                    } else {
                        metrics.add(m);
                    }
                } catch (IOException e) {
                    problems.add("metrics.jsonl line " + (i + 1) + " is not valid JSON (truncated?); it was skipped");
                }
            }
        }
        boolean committed = files.containsKey(Warehouse.SUCCESS);
        JsonNode evaluation = files.containsKey("evaluation.json") ? json(new Path(dir, "evaluation.json"), problems) : null;
        boolean report = files.containsKey("report") && warehouse.fs().exists(new Path(dir, "report/index.html"));
        Status status = committed ? Status.COMMITTED : locked ? Status.TRAINING : Status.UNCOMMITTED;
        Run run = new Run(id, status, params, List.copyOf(metrics), evaluation, report,
                committed ? files.get(Warehouse.SUCCESS).getModificationTime() : 0, List.copyOf(problems));
        if (run.finished()) {
            finished.put(id, run);
        }
        return run;
    }

    private JsonNode json(Path file, List<String> problems) {
        String text = text(file, problems);
        if (text.isEmpty()) {
            return null;
        }
        try {
            return Warehouse.JSON.readTree(text);
        } catch (IOException e) {
            problems.add(file.getName() + " is not valid JSON: " + firstLine(e.getMessage()));
            return null;
        }
    }

    private String text(Path file, List<String> problems) {
        try (InputStream in = warehouse.fs().open(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            problems.add(file.getName() + " cannot be read: " + firstLine(e.getMessage()));
            return "";
        }
    }

    static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    /** The run as the API gives it: its summary fields, params (secrets masked), metrics, evaluation, problems. */
    static ObjectNode json(Run r, boolean full) {
        ObjectNode o = Warehouse.JSON.createObjectNode();
        o.put("run_id", r.id());
        o.put("status", r.status().label());
        o.put("dataset", r.dataset());
        o.put("preset", r.preset());
        o.put("epochs_done", r.metrics().size());
        o.put("epochs_asked", r.epochsAsked());
        o.put("workers", r.workers());
        putNumber(o, "test_accuracy", r.testAccuracy());
        putNumber(o, "final_val_accuracy", r.finalValAccuracy());
        putNumber(o, "wall_seconds", r.wallSeconds());
        o.put("created_at", r.createdAt());
        o.put("commit", r.commit());
        o.put("report", r.report());
        ArrayNode problems = o.putArray("problems");
        r.problems().forEach(problems::add);
        if (full) {
            o.set("params", r.params() == null ? null : Secrets.mask(r.params().deepCopy()));
            ArrayNode metrics = o.putArray("metrics");
            r.metrics().forEach(metrics::add);
            o.set("evaluation", r.evaluation());
        }
        return o;
    }

    private static void putNumber(ObjectNode o, String key, Double value) {
        if (value == null || value.isNaN()) {
            o.putNull(key);
        } else {
            o.put(key, value);
        }
    }

    /** Flattened configuration ({@code train.epochs -> 10}) of a run, secrets masked; for comparing runs. */
    static Map<String, String> flatConfig(Run r) {
        Map<String, String> flat = new LinkedHashMap<>();
        if (r.params() != null) {
            flatten("", Secrets.mask(r.params().path("config").deepCopy()), flat);
            JsonNode training = r.params().path("training");
            training.fields().forEachRemaining(e -> flat.put("effective." + e.getKey(), e.getValue().toString()));
        }
        return flat;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out));
        } else if (!node.isMissingNode()) {
            out.put(prefix, node.isTextual() ? node.asText() : node.toString());
        }
    }
}
