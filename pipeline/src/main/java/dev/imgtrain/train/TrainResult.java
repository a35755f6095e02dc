package dev.imgtrain.train;

import java.util.List;

/**
 * What a training run committed: its id, directory and per-epoch metrics, the seconds spent writing its mini-batches
 * before the first epoch, and the {@code System.nanoTime()} at which the first epoch (of this process) began (0 when
 * none ran). {@code epochs} is shorter than configured when training stopped early ({@code train.stop-at-accuracy}).
 * {@code paused}: an {@link TrainJob.EpochGate} paused it (a sweep's ASHA rung): nothing committed, its checkpoints kept, and
 * the same configuration run again resumes it.
 */
public record TrainResult(String runId, String runDir, long trainExamples, double batchSeconds, List<EpochMetrics> epochs,
                          long epochsStartedNanos, boolean paused) {
    public TrainResult {
        epochs = List.copyOf(epochs);
    }

    public TrainResult(String runId, String runDir, long trainExamples, double batchSeconds, List<EpochMetrics> epochs,
                       long epochsStartedNanos) {
        this(runId, runDir, trainExamples, batchSeconds, epochs, epochsStartedNanos, false);
    }
}
