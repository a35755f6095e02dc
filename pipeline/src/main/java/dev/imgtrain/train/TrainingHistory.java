package dev.imgtrain.train;

import dev.imgtrain.model.CorrectCount;
import dev.imgtrain.model.FusedNetwork;
import dev.imgtrain.model.GemmLayers;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * An epoch's training loss and accuracy as Keras' {@code history} reports them (the mean over every example fitted in
 * the epoch, on every worker), from the workers' own training steps: no second pass over the data.
 *
 * <p>A dl4j-spark {@link TrainingHook}: DL4J's parameter-averaging worker calls it around each mini-batch's
 * {@code fit}. After the fit it adds the batch's loss (DL4J's score of that step, computed before the update, times the
 * batch size), the number of examples whose forward pass ranked the true class first, and the batch size to three
 * Spark accumulators; the driver reads and resets them after each epoch ({@link #take}). The correct count comes from
 * imgtrain's fused step ({@link FusedNetwork#takeTrainingCorrect}) or output layer
 * ({@link GemmLayers.OutputImpl#takeTrainingCorrect}), which have the step's pre-activations anyway; with DL4J's own output layer ({@code model.layer-implementation = dl4j}) the hook runs one extra inference
 * forward pass per batch before the fit instead (about a third of a step more).
 *
 * <p>The loss is summed in fixed point ({@link #LOSS_SCALE}, a long accumulator), not as a double: Spark merges the
 * tasks' accumulators in the order the tasks finish, and double addition is not associative, so the same run's epoch
 * loss differed in its last bit from run to run (BatchCacheIT saw it). Integer sums do not depend on the order.
 *
 * <p>Spark merges a task's accumulator updates once it succeeds; a task Spark retries after a lost executor is counted
 * again in both the loss and the example count, which can move the epoch's mean slightly but not its scale.
 */
public final class TrainingHistory implements TrainingHook {
    private static final long serialVersionUID = 1L;

    /** Loss units per 1.0: 2^24, about 6e-8 per batch, far below the 4 decimals a history shows. */
    static final double LOSS_SCALE = 1 << 24;
    /** Largest batch loss (score times examples) the fixed-point sum takes; larger or not finite: the epoch is NaN. */
    static final double LOSS_LIMIT = 1e9;

    private final LongAccumulator lossSum;
    private final LongAccumulator lossNotFinite;
    private final LongAccumulator correct;
    private final LongAccumulator examples;
    /** Correct predictions of the batch about to be fitted, when the output layer does not count them itself. */
    private transient long pendingCorrect = -1;

    private TrainingHistory(LongAccumulator lossSum, LongAccumulator lossNotFinite, LongAccumulator correct,
                            LongAccumulator examples) {
        this.lossSum = lossSum;
        this.lossNotFinite = lossNotFinite;
        this.correct = correct;
        this.examples = examples;
    }

    /** A history whose accumulators are registered with {@code sc} (named, so the Spark UI shows them per stage). */
    public static TrainingHistory register(SparkContext sc, String runId) {
        return new TrainingHistory(sc.longAccumulator("train loss sum x 2^24 " + runId),
                sc.longAccumulator("train loss not finite " + runId), sc.longAccumulator("train correct " + runId), sc.longAccumulator("train examples " + runId));
    }

    /** One epoch's figures. */
    public record Epoch(double loss, double accuracy, long examples) {
    }

    /** The sums so far this epoch (the tasks that ended), as means, without starting over. Driver only. */
    public Epoch peek() {
        long n = examples.value();
        double loss = lossNotFinite.value() > 0 ? Double.NaN : lossSum.value() / LOSS_SCALE / n;
        return n == 0 ? new Epoch(Double.NaN, Double.NaN, 0) : new Epoch(loss, (double) correct.value() / n, n);
    }

    /** The sums since the last call, as means; then starts the next epoch from zero. Driver only. */
    public Epoch take() {
        long n = examples.value();
        double loss = lossNotFinite.value() > 0 ? Double.NaN : lossSum.value() / LOSS_SCALE / n;
        Epoch epoch = n == 0 ? new Epoch(Double.NaN, Double.NaN, 0) : new Epoch(loss, (double) correct.value() / n, n);
        lossSum.reset();
        lossNotFinite.reset();
        correct.reset();
        examples.reset();
        return epoch;
    }

    /** What {@link #fixedPoint} returns for a loss it cannot hold. */
    static final long NOT_FINITE = Long.MIN_VALUE;

    /** A batch's loss in {@link #LOSS_SCALE} units, or {@link #NOT_FINITE} (NaN, infinite, beyond {@link #LOSS_LIMIT}). */
    static long fixedPoint(double batchLoss) {
        return Double.isFinite(batchLoss) && Math.abs(batchLoss) <= LOSS_LIMIT ? Math.round(batchLoss * LOSS_SCALE)
                : NOT_FINITE;
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        pendingCorrect = -1;
        if (!(model instanceof FusedNetwork) && !(outputLayer(model) instanceof GemmLayers.OutputImpl)) {
            INDArray out = ((MultiLayerNetwork) model).output(minibatch.getFeatures(), false);
            pendingCorrect = CorrectCount.count(out, minibatch.getLabels());
        }
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
        int n = minibatch.numExamples();
        long right = model instanceof FusedNetwork fused ? fused.takeTrainingCorrect()
                : outputLayer(model) instanceof GemmLayers.OutputImpl out ? out.takeTrainingCorrect() : pendingCorrect;
        pendingCorrect = -1;
        if (right < 0) {
            throw new IllegalStateException("no training accuracy was recorded for a mini-batch of " + n
                    + " examples (output layer " + outputLayer(model).getClass().getName() + ")");
        }
        long fixed = fixedPoint(model.score() * n);
        if (fixed != NOT_FINITE) {
            lossSum.add(fixed);
        } else {
            lossNotFinite.add(1);
        }
        correct.add(right);
        examples.add(n);
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        throw new UnsupportedOperationException("imgtrain trains MultiLayerNetworks on DataSets");
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
        throw new UnsupportedOperationException("imgtrain trains MultiLayerNetworks on DataSets");
    }

    private static Layer outputLayer(Model model) {
        return ((MultiLayerNetwork) model).getOutputLayer();
    }
}
