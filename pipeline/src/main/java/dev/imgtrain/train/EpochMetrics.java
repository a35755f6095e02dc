package dev.imgtrain.train;

/**
 * One line of {@code metrics.jsonl}.
 *
 * @param trainLoss    mean mini-batch loss across workers at the epoch's last parameter averaging (DL4J's score)
 * @param epochSeconds wall time of the epoch's parameter-averaging fit, validation excluded
 */
public record EpochMetrics(int epoch, double trainLoss, double valLoss, double valAccuracy, double epochSeconds,
                           double examplesPerSecond) {
}
