package dev.imgtrain.train;

/**
 * One line of {@code metrics.jsonl}: an epoch's history as Keras' {@code history} has it.
 *
 * @param loss              mean training loss over every example fitted in the epoch, on all workers (each mini-batch's
 *                          loss as the network computed it for its update, before that update, weighted by its size;
 *                          includes the regularisation term, as Keras' does)
 * @param accuracy          fraction of the epoch's training examples whose mini-batch forward pass (the one the update
 *                          used) ranked the true class first
 * @param examples          training examples fitted in the epoch (all workers)
 * @param valLoss           mean loss on the validation split after the epoch
 * @param valAccuracy       accuracy on the validation split after the epoch
 * @param epochSeconds      wall time of the epoch's parameter-averaging fit, validation excluded
 * @param examplesPerSecond {@code examples / epochSeconds}
 * @param lr                the learning rate the epoch trained with (absent in runs before issue 28)
 * @param stopReason        on the last epoch of a run that stopped before train.epochs: why (early stopping,
 *                          stop-at-accuracy, a sweep's ASHA); absent otherwise
 * @param restoredEpoch     on the last epoch: the epoch whose weights the committed model has, when restore-best-weights
 *                          chose another; absent otherwise
 */
public record EpochMetrics(int epoch, double loss, double accuracy, long examples, double valLoss, double valAccuracy,
                           double epochSeconds, double examplesPerSecond,
                           @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) Double lr,
                           @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) String stopReason,
                           @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) Integer restoredEpoch) {

    /**
     * This epoch's line as the last one of a run: why training stopped after it (null: it trained every epoch asked
     * for) and the epoch whose weights the committed model has when that is not this one (restore-best-weights).
     */
    public EpochMetrics last(String reason, Integer restored) {
        return new EpochMetrics(epoch, loss, accuracy, examples, valLoss, valAccuracy, epochSeconds, examplesPerSecond, lr,
                reason, restored);
    }

    /** The non-blank lines of {@code runDir}'s metrics.jsonl, one per epoch (none when the file is missing). */
    static java.util.List<String> lines(dev.imgtrain.store.Warehouse warehouse, org.apache.hadoop.fs.Path runDir) {
        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(runDir, "metrics.jsonl");
        if (!warehouse.exists(file)) {
            return java.util.List.of();
        }
        try (java.io.InputStream in = warehouse.fs().open(file)) {
            return java.util.Arrays.stream(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n"))
                    .filter(line -> !line.isBlank()).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** One line of metrics.jsonl. */
    public static EpochMetrics parse(String line) {
        try {
            return dev.imgtrain.store.Warehouse.JSON.readValue(line, EpochMetrics.class);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("metrics.jsonl: not an epoch's metrics: " + line, e);
        }
    }
}
