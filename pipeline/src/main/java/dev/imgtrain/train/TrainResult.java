package dev.imgtrain.train;

import java.util.List;

/** What a training run committed: its id, directory and per-epoch metrics. */
public record TrainResult(String runId, String runDir, long trainExamples, List<EpochMetrics> epochs) {
    public TrainResult {
        epochs = List.copyOf(epochs);
    }
}
