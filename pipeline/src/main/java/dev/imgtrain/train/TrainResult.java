package dev.imgtrain.train;

import java.util.List;

/**
 * What a training run committed: its id, directory and per-epoch metrics, and the seconds spent writing its
 * mini-batches before the first epoch. {@code epochs} is shorter than configured when training stopped early
 * ({@code train.stop-at-accuracy}).
 */
public record TrainResult(String runId, String runDir, long trainExamples, double batchSeconds, List<EpochMetrics> epochs) {
    public TrainResult {
        epochs = List.copyOf(epochs);
    }
}
