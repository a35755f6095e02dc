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
 */
public record EpochMetrics(int epoch, double loss, double accuracy, long examples, double valLoss, double valAccuracy,
                           double epochSeconds, double examplesPerSecond) {
}
