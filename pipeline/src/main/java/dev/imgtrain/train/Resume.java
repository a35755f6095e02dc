package dev.imgtrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.model.ModelStore;
import dev.imgtrain.store.DamagedFileException;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Where an uncommitted run (a killed one) continues: its last good epoch checkpoint (one that is damaged, see
 * {@link ModelStore#verify}, is passed over with a WARN naming it) whose metrics line was written, the
 * metrics up to it, and the checkpoint's parameters and updater state. Training then goes on with the epoch after it:
 * the mini-batch files and each epoch's order come from the seed, so the resumed run sees what the uninterrupted one
 * would have. The configuration must be the one the run started with (except the number of epochs).
 */
record Resume(int epoch, Path checkpoint, MultiLayerNetwork saved, List<EpochMetrics> metrics, String jsonl) {
    private static final Logger LOG = LoggerFactory.getLogger(Resume.class);
    /** Configuration keys a resumed run may change. */
    private static final List<String> MAY_CHANGE = List.of("epochs", "fresh", "if-committed");

    /** The resume point of {@code runDir}, or null (with a log line) when it has no usable checkpoint: start over. */
    static Resume find(Warehouse warehouse, Path runDir, PipelineConfig config) {
        String runId = runDir.getName();
        Path paramsFile = new Path(runDir, "params.json");
        if (warehouse.exists(paramsFile)) {
            checkSameConfiguration(warehouse.readJson(paramsFile, JsonNode.class), config, runId);
        }
        removeHalfWritten(warehouse, runDir);
        List<String> lines = EpochMetrics.lines(warehouse, runDir);
        for (int epoch = Math.min(lines.size(), config.train().epochs()); epoch >= 1; epoch--) {
            Path checkpoint = TrainJob.checkpointFile(runDir, epoch);
            if (warehouse.exists(checkpoint)) {
                MultiLayerNetwork saved;
                try {
                    saved = ModelStore.load(warehouse, checkpoint); // read once: checked here, restored from below
                } catch (DamagedFileException damaged) {
                    LOG.warn("train {}: not resuming from {}: {}; trying the checkpoint before it", runId,
                            checkpoint.getName(), damaged.getMessage());
                    continue;
                }
                List<EpochMetrics> metrics = new ArrayList<>();
                StringBuilder jsonl = new StringBuilder();
                for (String line : lines.subList(0, epoch)) {
                    metrics.add(EpochMetrics.parse(line));
                    jsonl.append(line).append('\n');
                }
                return new Resume(epoch, checkpoint, saved, metrics, jsonl.toString());
            }
        }
        LOG.info("train {}: {} holds no good epoch checkpoint to resume from; training from epoch 1", runId, runDir);
        warehouse.delete(runDir);
        return null;
    }

    /** Puts the checkpoint's parameters and updater state (as read by find) into {@code network} (built by NetworkFactory). */
    void restore(MultiLayerNetwork network) {
        if (saved.numParams() != network.numParams()) {
            throw new IllegalStateException(checkpoint + ": " + saved.numParams() + " parameters, the configured network has "
                    + network.numParams() + "; --fresh starts the run over");
        }
        network.setParams(saved.params());
        if (saved.getUpdater() != null && saved.getUpdater().getStateViewArray() != null) {
            network.getUpdater().getStateViewArray().assign(saved.getUpdater().getStateViewArray());
        }
    }

    /**
     * The block momentum saved beside the checkpoint (see {@link BlockMomentum}); the run's configuration, checked
     * equal, says whether there is one.
     */
    void restore(Warehouse warehouse, BlockMomentum momentum, long parameters) {
        Path state = TrainJob.blockMomentumFile(checkpoint);
        if (!warehouse.exists(state)) {
            throw new IllegalStateException(state + " is missing: the run trains with train.block-momentum and its "
                    + "checkpoint " + checkpoint.getName() + " needs it; --fresh starts the run over");
        }
        momentum.restore(warehouse.readBytes(state), parameters, state.toString());
    }

    /** Files a killed or failed attempt left half written ({@code _<name>.part-<uuid>}, see Warehouse.writeAtomically). */
    private static void removeHalfWritten(Warehouse warehouse, Path runDir) {
        try {
            org.apache.hadoop.fs.FileStatus[] parts = warehouse.fs().globStatus(new Path(runDir, "_*.part-*"));
            for (org.apache.hadoop.fs.FileStatus part : parts == null ? new org.apache.hadoop.fs.FileStatus[0] : parts) {
                warehouse.deleteQuietly(part.getPath());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(runDir + ": " + e.getMessage(), e);
        }
    }

    private static void checkSameConfiguration(JsonNode params, PipelineConfig config, String runId) {
        try {
            ObjectNode before = (ObjectNode) params.path("config").deepCopy();
            ObjectNode now = (ObjectNode) Warehouse.JSON.readTree(config.rendered());
            for (ObjectNode c : List.of(before, now)) {
                if (c.get("train") instanceof ObjectNode train) {
                    MAY_CHANGE.forEach(train::remove);
                }
            }
            if (!before.equals(now)) {
                throw new IllegalStateException("run '" + runId + "' was started with another configuration (see its "
                        + "params.json); resume it with the same settings, or --fresh to start it over");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
