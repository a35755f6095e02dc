package dev.imgtrain.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgtrain.store.Lease;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The model in use per dataset, and the gate that replaces it.
 *
 * <pre>
 * models/&lt;dataset&gt;/versions/&lt;run-id&gt;/model.zip, evaluation.json   a promoted run's files, copied, never changed
 * models/&lt;dataset&gt;/current.json                                     which version is in use (one small object)
 * models/&lt;dataset&gt;/promotions.jsonl                                 the history, one line per promotion
 * </pre>
 *
 * Promotion copies the run's model into its version directory first and then writes {@code current.json} in one
 * write (a rename on file: and hdfs:, a single PUT on s3a:), so a reader of {@code current.json} always finds a whole
 * model: never a half-copied directory, also on object storage. Promotions of one dataset are serialised by a lock
 * file created exclusively ({@code models/<dataset>/_promote.lock}, naming its owner; waited for up to a minute); a lock older than
 * {@link #STALE_LOCK_MS} is taken over. On s3a: with Hadoop 3.3's S3A an exclusive create is a check then a PUT, so two
 * promotes started within the same moment could both take the lock there; on file: and hdfs: it is atomic.
 */
public final class ModelRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);
    static final long LOCK_WAIT_MS = 60 * 1000;

    private final Warehouse warehouse;

    public ModelRegistry(Warehouse warehouse) {
        this.warehouse = warehouse;
    }

    public enum Outcome { PROMOTED, NOT_PROMOTED, ALREADY_CURRENT }

    /** What a promote decided, and the one line that says why. */
    public record Decision(Outcome outcome, String dataset, String runId, double accuracy, String previousRunId,
                           Double previousAccuracy, String reason) {
    }

    /** The model in use: its run, test accuracy, when it was promoted and where its model.zip is. */
    public record Current(String runId, double accuracy, String promotedAt, String model) {
    }

    public Path modelsDir(String dataset) {
        return new Path(warehouse.root(), "models/" + dataset);
    }

    public Path versionDir(String dataset, String runId) {
        return new Path(modelsDir(dataset), "versions/" + runId);
    }

    /** The current model of {@code dataset}, or null when none was promoted yet. */
    public Current current(String dataset) {
        Path pointer = new Path(modelsDir(dataset), "current.json");
        if (!warehouse.exists(pointer)) {
            return null;
        }
        return warehouse.readJson(pointer, Current.class);
    }

    /** Every promotion of {@code dataset}, oldest first. */
    public List<JsonNode> history(String dataset) {
        List<JsonNode> lines = new ArrayList<>();
        Path file = new Path(modelsDir(dataset), "promotions.jsonl");
        if (!warehouse.exists(file)) {
            return lines;
        }
        for (String line : text(file).split("\n")) {
            if (!line.isBlank()) {
                try {
                    lines.add(Warehouse.JSON.readTree(line));
                } catch (IOException e) {
                    throw new UncheckedIOException(file + ": not valid JSON: " + e.getMessage(), e);
                }
            }
        }
        return lines;
    }

    /**
     * Makes {@code runId} the current model of {@code dataset} when its test accuracy beats the current one's by more
     * than {@code minImprovement} (the first promotion of a dataset always wins). Promoting the current run again
     * changes nothing.
     */
    public Decision promote(String dataset, String runId, double minImprovement) {
        return promote(dataset, runId, minImprovement, false);
    }

    /** As {@link #promote(String, String, double)}; {@code force} skips the gate (a rollback to an older run). */
    public Decision promote(String dataset, String runId, double minImprovement, boolean force) {
        Path runDir = warehouse.runDir(runId);
        if (!warehouse.committed(runDir)) {
            throw new IllegalStateException("run '" + runId + "' is not a committed run in " + warehouse.root()
                    + " (no " + new Path(runDir, Warehouse.SUCCESS) + "); `imgtrain runs list` shows the committed ones");
        }
        Path evaluationFile = new Path(runDir, "evaluation.json");
        if (!warehouse.exists(evaluationFile)) {
            throw new IllegalStateException("run '" + runId + "' is not evaluated (no " + evaluationFile
                    + "): run `imgtrain evaluate --run " + runId + "` first");
        }
        String runDataset = warehouse.readJson(new Path(runDir, "params.json"), JsonNode.class).path("dataset").asText();
        if (!runDataset.equals(dataset)) {
            throw new IllegalStateException("run '" + runId + "' was trained on " + runDataset + ", not " + dataset);
        }
        double accuracy = warehouse.readJson(evaluationFile, JsonNode.class).path("accuracy").asDouble();
        Path lock = new Path(modelsDir(dataset), "_promote.lock");
        try (Lease held = acquire(lock, "promote " + runId + " to " + dataset)) {
            Current current = current(dataset);
            if (current != null && current.runId().equals(runId)) {
                return new Decision(Outcome.ALREADY_CURRENT, dataset, runId, accuracy, runId, current.accuracy(),
                        "run " + runId + " is already the current model of " + dataset + "; nothing changed");
            }
            if (!force && current != null && !(accuracy > current.accuracy() + minImprovement)) {
                return new Decision(Outcome.NOT_PROMOTED, dataset, runId, accuracy, current.runId(), current.accuracy(),
                        String.format("not promoted: run %s has test accuracy %.4f, current %s has %.4f; a promotion "
                                        + "needs more than %.4f + %s", runId, accuracy, current.runId(), current.accuracy(),
                                current.accuracy(), minImprovement));
            }
            Path version = versionDir(dataset, runId);
            if (!warehouse.exists(new Path(version, "model.zip"))) {
                Path model = new Path(runDir, "model.zip");
                // A damaged model is never promoted: its bytes are checked against its digest, then those bytes copied.
                byte[] verified = dev.imgtrain.model.ModelStore.verify(warehouse, model);
                try (Scratch.Dir staging = Scratch.open(warehouse, "promote-" + runId)) {
                    warehouse.writeAtomically(new Path(staging.path(), "model.zip"), verified);
                    Path digest = dev.imgtrain.model.ModelStore.digestFile(model);
                    if (warehouse.exists(digest)) {
                        copy(digest, dev.imgtrain.model.ModelStore.digestFile(new Path(staging.path(), "model.zip")));
                    }
                    copy(evaluationFile, new Path(staging.path(), "evaluation.json"));
                    held.verify();
                    warehouse.commitDirectory(staging.path(), version);
                }
            }
            String now = Instant.now().toString();
            Current next = new Current(runId, accuracy, now, new Path(version, "model.zip").toString());
            ObjectNode entry = Warehouse.JSON.createObjectNode();
            entry.put("promoted_at", now).put("dataset", dataset).put("run_id", runId).put("accuracy", accuracy);
            entry.put("previous_run_id", current == null ? null : current.runId());
            if (current == null) {
                entry.putNull("previous_accuracy");
            } else {
                entry.put("previous_accuracy", current.accuracy());
            }
            entry.put("min_improvement", minImprovement);
            entry.put("forced", force);
            // History first, then the pointer: a crash between the two leaves a history line for a promotion that did
            // not take effect (visible: current.json still names the previous run), never the other way round.
            Path historyFile = new Path(modelsDir(dataset), "promotions.jsonl");
            String history = warehouse.exists(historyFile) ? text(historyFile) : "";
            held.verify(); // a promote that was stopped past storage.stale-after and taken over writes nothing more
            warehouse.writeText(historyFile, history + Warehouse.JSON.writer()
                    .without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(entry) + "\n");
            warehouse.writeJson(new Path(modelsDir(dataset), "current.json"), next);
            LOG.info("promote {}: {} is the current model of {} (test accuracy {}, previous {})", dataset, runId, dataset,
                    String.format("%.4f", accuracy), current == null ? "none" : current.runId() + " " + String.format("%.4f", current.accuracy()));
            return new Decision(Outcome.PROMOTED, dataset, runId, accuracy, current == null ? null : current.runId(),
                    current == null ? null : current.accuracy(), current == null
                    ? String.format("promoted: run %s (test accuracy %.4f) is the first model of %s", runId, accuracy, dataset)
                    : String.format("promoted: run %s (test accuracy %.4f) replaces %s (%.4f)", runId, accuracy,
                    current.runId(), current.accuracy()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Takes the dataset's promotion lock, waiting up to {@link #LOCK_WAIT_MS} while another promote holds it; a lock
     * whose holder is dead (see {@link Lease}) is taken over.
     */
    private Lease acquire(Path lock, String what) {
        long deadline = System.currentTimeMillis() + LOCK_WAIT_MS;
        while (true) {
            try {
                return Lease.acquire(warehouse, lock, what);
            } catch (Lease.HeldException held) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("another promote of this dataset is running (" + lock + " held by "
                            + held.holder().describe() + "); try again when it has finished");
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + lock, e);
            }
        }
    }

    private void copy(Path from, Path to) {
        try {
            if (!FileUtil.copy(warehouse.fs(), from, warehouse.fs(), to, false, warehouse.fs().getConf())) {
                throw new IOException("copy returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to + ": " + e.getMessage(), e);
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
