package dev.imgtrain.model;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.NesterovsUpdater;
import org.nd4j.linalg.learning.RmsPropUpdater;
import org.nd4j.linalg.learning.SgdUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasColMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;

/**
 * One training step of a dense stack (dense layers, then softmax with cross-entropy) as one call on the CPU
 * ({@code model.layer-implementation = fused}): forward pass, loss, backward pass and the updater, directly on the
 * network's own flat parameter and updater-state arrays (the gradient array gets the bias gradients only: each weight
 * gradient is computed in tiles and applied while in cache). Each matrix product is a BLAS call on that memory;
 * bias, activations, softmax and the updater are loops; the working memory is {@link FusedBuffers}, allocated once per
 * thread. No ND4J op runs and no array is created per step: DL4J 1.0.0-M2 spends 10-30 µs in each of its hundred-odd
 * ops a step, most of the step for small networks.
 *
 * <p>Lanes: given more than one ({@link FusedNetwork#fit(org.nd4j.linalg.dataset.api.iterator.DataSetIterator)} gives
 * the BLAS library's threads), each large enough layer's forward pass, its gradient below and its weight gradient with
 * the update are split by columns, one share per lane: lane 0 on the calling thread, the others on its
 * {@link StepTeam}, each calling BLAS single-threaded. Small products (the output layer) stay on the calling thread.
 * A column's arithmetic is the same on any lane, so the lanes change no result.
 *
 * <p>The arithmetic is DL4J's: {@code LossMCXENT} with softmax (its 1e-10 clipping in the score only), the gradient
 * divided by the batch size ({@code BaseMultiLayerUpdater}), then each updater block's rule as ND4J's updater ops
 * compute it (SGD, RMSProp, Nesterov momentum), the step {@code params -= update}, the iteration count and the score.
 * The results differ from DL4J's only by float rounding (other summation orders inside BLAS). Parameters and updater
 * state stay where DL4J keeps them, so parameter averaging, checkpoints, model.zip and evaluation see the same arrays.
 *
 * <p>{@link #unsupported} says which networks it cannot run (anything else: other layers, losses, activations,
 * updaters, regularisation, dropout, a GPU backend); {@link FusedNetwork} gives those to DL4J.
 */
public final class FusedStep {
    /** Steps taken by fused steps in this JVM (all threads): for tests. */
    static final LongAdder STEPS = new LongAdder();
    private static final boolean HOST_MEMORY = Nd4j.getBackend().getClass().getName().contains(".cpu.");
    /**
     * Nesterov's velocity is moved towards 0 by this much each step (and is 0 when smaller): a parameter whose gradient
     * stays 0 (a dead ReLU unit's weights) has its velocity multiplied by the momentum every step until it is a
     * subnormal float, where it stays (μ·x rounds back to x), and each vector operation on a subnormal costs Intel
     * CPUs a microcode assist (see {@link CpuRmsProp#stateFloor}). 1e-30 is far below what a parameter of a trained
     * network (|w| above 1e-10) can notice: w − 1e-30 rounds to w.
     */
    static final float VELOCITY_FLOOR = 1e-30f;

    private enum Activation { IDENTITY, RELU, TANH, SIGMOID, SOFTMAX }

    /** A dense layer: its weights (nIn×nOut, column-major as DL4J stores them) and bias at offsets of the flat arrays. */
    private record Layer(int nIn, int nOut, int weights, int bias, Activation activation) {
    }

    /** An updater block: parameters [from, to) of the flat array and their state from {@code state} on. */
    private record Block(int from, int to, int state, GradientUpdater<?> updater) {
    }

    private final MultiLayerNetwork net;
    private final Layer[] layers;
    private final int[] widths;
    private final List<Block> blocks;
    private final INDArray params;
    private final INDArray gradient;
    private final INDArray state;
    private final FloatBuffer paramsBuffer;
    private final FloatBuffer gradientBuffer;
    private final FloatBuffer stateBuffer;
    private final FloatPointer[] w;
    private final FloatPointer[] b;
    private final FloatPointer[] db;
    private final FloatPointer paramsPointer;
    private final FloatPointer gradientPointer;
    private final boolean divideByBatch;
    private long correct = -1;

    private FusedStep(MultiLayerNetwork net) {
        this.net = net;
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        int n = conf.getConfs().size();
        layers = new Layer[n];
        widths = new int[n];
        int offset = 0;
        for (int l = 0; l < n; l++) {
            org.deeplearning4j.nn.conf.layers.FeedForwardLayer layer =
                    (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) conf.getConf(l).getLayer();
            int nIn = Math.toIntExact(layer.getNIn());
            int nOut = Math.toIntExact(layer.getNOut());
            layers[l] = new Layer(nIn, nOut, offset, offset + nIn * nOut, activation(layer.getActivationFn()));
            widths[l] = nOut;
            offset += nIn * nOut + nOut;
        }
        net.initGradientsView();
        params = net.params();
        gradient = net.getFlattenedGradients();
        MultiLayerUpdater updater = (MultiLayerUpdater) net.getUpdater(true);
        state = updater.getStateViewArray();
        paramsBuffer = window(params);
        gradientBuffer = window(gradient);
        stateBuffer = state == null ? null : window(state);
        paramsPointer = new FloatPointer(paramsBuffer);
        gradientPointer = new FloatPointer(gradientBuffer);
        blocks = new ArrayList<>();
        for (UpdaterBlock ub : updater.getUpdaterBlocks()) {
            blocks.add(new Block(ub.getParamOffsetStart(), ub.getParamOffsetEnd(), ub.getUpdaterViewOffsetStart(),
                    ub.getGradientUpdater()));
        }
        w = new FloatPointer[n];
        b = new FloatPointer[n];
        db = new FloatPointer[n];
        for (int l = 0; l < n; l++) {
            w[l] = at(paramsPointer, layers[l].weights());
            b[l] = at(paramsPointer, layers[l].bias());
            db[l] = at(gradientPointer, layers[l].bias());
        }
        divideByBatch = conf.getConf(0).isMiniBatch();
    }

    /** The fused step of {@code net}, bound to its current parameter, gradient and updater arrays. */
    static FusedStep of(MultiLayerNetwork net) {
        String why = unsupported(net);
        if (why != null) {
            throw new IllegalArgumentException("the fused training step cannot run this network: " + why);
        }
        return new FusedStep(net);
    }

    /** Fused steps taken in this JVM, all threads (Spark's local executors included): for tests and logs. */
    public static long steps() {
        return STEPS.sum();
    }

    /** Whether this step still works on {@code net}'s arrays (DL4J replaces them on {@code init} and {@code setUpdater}). */
    boolean boundTo(MultiLayerNetwork other) {
        return other == net && net.params() == params && net.getFlattenedGradients() == gradient
                && net.getUpdater(false) != null && net.getUpdater(false).getStateViewArray() == state;
    }

    /** Correct predictions of the last step's forward pass (before its update). */
    long correct() {
        return correct;
    }

    /**
     * Why the fused step cannot train {@code net}, or null when it can: a CPU backend, float parameters, dense layers
     * with bias and relu/tanh/sigmoid/identity, a softmax output layer with (unweighted) cross-entropy, SGD, RMSProp or
     * Nesterov updaters, and none of dropout, weight noise, layer normalisation, regularisation, gradient normalisation,
     * constraints, preprocessors or truncated backpropagation.
     */
    public static String unsupported(MultiLayerNetwork net) {
        if (!HOST_MEMORY) {
            return "ND4J backend " + Nd4j.getBackend().getClass().getSimpleName() + " keeps arrays off the host";
        }
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        if (net.params() == null || net.params().dataType() != DataType.FLOAT) {
            return "parameters are not float32";
        }
        if (conf.getInputPreProcessors() != null && !conf.getInputPreProcessors().isEmpty()) {
            return "input preprocessors";
        }
        if (conf.getBackpropType() != BackpropType.Standard) {
            return "backprop type " + conf.getBackpropType();
        }
        int n = conf.getConfs().size();
        long nIn = -1;
        for (int l = 0; l < n; l++) {
            org.deeplearning4j.nn.conf.layers.Layer layer = conf.getConf(l).getLayer();
            boolean last = l == n - 1;
            String where = "layer " + l + " (" + layer.getClass().getSimpleName() + ")";
            if (last ? !(layer instanceof OutputLayer) : !(layer instanceof DenseLayer)) {
                return where + ": expected " + (last ? "an output layer" : "a dense layer");
            }
            BaseLayer base = (BaseLayer) layer;
            org.deeplearning4j.nn.conf.layers.FeedForwardLayer ff = (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) layer;
            if (nIn >= 0 && ff.getNIn() != nIn) {
                return where + ": nIn " + ff.getNIn() + " after a layer of " + nIn;
            }
            nIn = ff.getNOut();
            if (base.getIDropout() != null || base.getWeightNoise() != null
                    || (layer instanceof DenseLayer d && d.hasLayerNorm())) {
                return where + ": dropout, weight noise or layer normalisation";
            }
            if (!base.getRegularization().isEmpty() || !base.getRegularizationBias().isEmpty()) {
                return where + ": regularisation";
            }
            if (base.getGradientNormalization() != null && base.getGradientNormalization() != GradientNormalization.None) {
                return where + ": gradient normalisation " + base.getGradientNormalization();
            }
            if (layer.getConstraints() != null && !layer.getConstraints().isEmpty()) {
                return where + ": constraints";
            }
            boolean bias = layer instanceof DenseLayer d ? d.hasBias() : ((OutputLayer) layer).hasBias();
            if (!bias) {
                return where + ": no bias";
            }
            Activation a = activation(base.getActivationFn());
            if (a == null || (a == Activation.SOFTMAX) != last) {
                return where + ": activation " + base.getActivationFn() + (last ? " (the output layer needs softmax)" : "");
            }
            if (last && !(((OutputLayer) layer).getLossFn() instanceof LossMCXENT loss && loss.getWeights() == null)) {
                return where + ": loss " + ((OutputLayer) layer).getLossFn() + " (needs unweighted cross-entropy)";
            }
        }
        for (UpdaterBlock ub : ((MultiLayerUpdater) net.getUpdater(true)).getUpdaterBlocks()) {
            GradientUpdater<?> u = ub.getGradientUpdater();
            if (!(u instanceof SgdUpdater || u instanceof RmsPropUpdater || u instanceof NesterovsUpdater)) {
                return "updater " + u.getConfig().getClass().getSimpleName() + " (SGD, RMSProp and Nesterovs are fused)";
            }
        }
        return null;
    }

    private static Activation activation(IActivation fn) {
        if (fn instanceof ActivationReLU relu) {
            return relu.equals(new ActivationReLU()) ? Activation.RELU : null;
        }
        if (fn instanceof ActivationIdentity) {
            return Activation.IDENTITY;
        }
        if (fn instanceof ActivationTanH) {
            return Activation.TANH;
        }
        if (fn instanceof ActivationSigmoid) {
            return Activation.SIGMOID;
        }
        return fn instanceof ActivationSoftmax ? Activation.SOFTMAX : null;
    }

    /**
     * Trains {@code net} on one mini-batch. Returns false, having changed nothing, when the batch is not one this step
     * takes (masks, another rank, data type or width): the caller gives it to DL4J.
     */
    boolean fit(org.nd4j.linalg.dataset.api.DataSet batch, int lanes) {
        INDArray x = batch.getFeatures();
        INDArray y = batch.getLabels();
        Layer first = layers[0];
        Layer last = layers[layers.length - 1];
        if (batch.getFeaturesMaskArray() != null || batch.getLabelsMaskArray() != null || x.rank() != 2 || y.rank() != 2
                || x.dataType() != DataType.FLOAT || y.dataType() != DataType.FLOAT || x.columns() != first.nIn()
                || y.columns() != last.nOut() || x.rows() != y.rows() || x.rows() == 0 || x.rows() > Integer.MAX_VALUE) {
            return false;
        }
        x = RowMajor.of(x);
        y = RowMajor.of(y);
        int rows = (int) x.rows();
        FusedBuffers buf = FusedBuffers.forThread(widths, rows, lanes);
        FloatPointer input = buf.features.at(x);
        int iteration = net.getIterationCount();
        int epoch = net.getEpochCount();
        double loss;
        if (lanes == 1) {
            loss = forward(buf, null, 1, input, buf.labels.at(y), rows);
            backwardAndUpdate(buf, null, 1, input, rows, iteration, epoch);
        } else {
            StepTeam team = StepTeam.forThread(lanes - 1);
            loss = forward(buf, team, lanes, input, buf.labels.at(y), rows);
            backwardAndUpdate(buf, team, lanes, input, rows, iteration, epoch);
        }
        net.setScore(loss);
        for (TrainingListener listener : net.getListeners()) {
            listener.iterationDone(net, iteration, epoch);
        }
        net.setIterationCount(iteration + 1);
        STEPS.increment();
        return true;
    }

    /**
     * The forward pass into {@code buf.act}, the output layer's δ = (softmax − labels)/batch into its {@code buf.delta}
     * and the correct count; returns the mean cross-entropy (DL4J's score).
     */
    private double forward(FusedBuffers buf, StepTeam team, int lanes, FloatPointer input, FloatPointer labels, int rows) {
        for (int l = 0; l < layers.length; l++) {
            int layer = l;
            FloatPointer in = l == 0 ? input : buf.actPointer[l - 1];
            int nOut = layers[l].nOut();
            int k = lanesFor(lanes, rows, layers[l].nIn(), nOut);
            if (k == 1) {
                forwardColumns(buf, buf.lane(0), layer, in, rows, 0, nOut);
            } else {
                team.run(k, t -> forwardColumns(buf, buf.lane(t), layer, in, rows, from(nOut, t, k), from(nOut, t + 1, k)));
            }
        }
        int last = layers.length - 1;
        int classes = layers[last].nOut();
        // The labels into our own buffer, where Java reads them (one BLAS copy, no array per step).
        FloatBuffer y = buf.delta[last];
        openblas_nolapack.cblas_scopy(rows * classes, labels, 1, buf.deltaPointer[last], 1);
        return softmaxLoss(buf.act[last], y, rows, classes);
    }

    /**
     * Columns [j0, j1) of layer l's forward pass: z = 1·bᵀ (every row the bias), then z += in·W with beta = 1 (the bias
     * folded into the product), then the hidden activation.
     */
    private void forwardColumns(FusedBuffers buf, FusedBuffers.Lane lane, int l, FloatPointer in, int rows, int j0, int j1) {
        Layer layer = layers[l];
        int nOut = layer.nOut();
        int columns = j1 - j0;
        FloatBuffer z = buf.act[l];
        paramsBuffer.get(layer.bias() + j0, lane.bias, 0, columns);
        for (int r = 0; r < rows; r++) {
            z.put(r * nOut + j0, lane.bias, 0, columns);
        }
        openblas_nolapack.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, columns, layer.nIn(), 1f,
                in, layer.nIn(), lane.weights.at(w[l], (long) j0 * layer.nIn()), layer.nIn(), 1f,
                lane.out.at(buf.actPointer[l], j0), nOut);
        if (layer.activation() != Activation.SOFTMAX) {
            forEachRowSegment(rows, nOut, j0, columns, (offset, n) -> activate(lane, z, offset, n, layer.activation()));
        }
    }

    /** Calls {@code body} for columns [j0, j0 + columns) of a rows × width row-major array: one call when that is all of it. */
    private static void forEachRowSegment(int rows, int width, int j0, int columns, Segment body) {
        if (columns == width) {
            body.apply(0, rows * width);
            return;
        }
        for (int r = 0; r < rows; r++) {
            body.apply(r * width + j0, columns);
        }
    }

    private interface Segment {
        void apply(int offset, int n);
    }

    /** The BLAS library's threads (1 in a Spark worker: bin/imgtrain sets OMP_NUM_THREADS=1). */
    static int blasThreads() {
        return Math.max(1, openblas_nolapack.blas_get_num_threads());
    }

    /** Sets the BLAS library's threads (OpenBLAS 0.3.19: about 0.6 ms a change, so once an epoch, not once a step). */
    static void setBlasThreads(int threads) {
        openblas_nolapack.blas_set_num_threads(threads);
    }

    /**
     * Lanes worth using for a product of rows × nIn × width multiply-adds split by columns of width: one below
     * {@link #PARALLEL_MACS}, and at least {@link #MIN_LANE_COLUMNS} columns a lane.
     */
    static int lanesFor(int lanes, int rows, int nIn, int width) {
        if (lanes == 1 || (long) rows * nIn * width < PARALLEL_MACS) {
            return 1;
        }
        return Math.max(1, Math.min(lanes, width / MIN_LANE_COLUMNS));
    }

    /** The first column of lane {@code t} of {@code k} over {@code width} columns (a multiple of 8 but for the end). */
    static int from(int width, int t, int k) {
        return t >= k ? width : (int) ((long) width * t / k) & ~7;
    }

    /**
     * Per row: counts it correct when z's largest entry is the label's; p = softmax(z) in place; the loss
     * −Σ y·log(max(p, 1e-10)) (DL4J's clipping, in the score only); δ = (p − y) / batch in place of y.
     */
    private double softmaxLoss(FloatBuffer z, FloatBuffer y, int rows, int classes) {
        float scale = divideByBatch ? 1f / rows : 1f;
        double loss = 0;
        long right = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * classes;
            int best = 0;
            int truth = 0;
            float max = z.get(o);
            for (int j = 1; j < classes; j++) {
                float v = z.get(o + j);
                if (v > max) {
                    max = v;
                    best = j;
                }
                if (y.get(o + j) > y.get(o + truth)) {
                    truth = j;
                }
            }
            right += best == truth ? 1 : 0;
            float sum = 0;
            for (int j = 0; j < classes; j++) {
                float e = (float) Math.exp(z.get(o + j) - max);
                z.put(o + j, e);
                sum += e;
            }
            for (int j = 0; j < classes; j++) {
                float p = z.get(o + j) / sum;
                float label = y.get(o + j);
                z.put(o + j, p);
                if (label != 0) {
                    loss -= label * Math.log(Math.max(p, 1e-10f));
                }
                y.put(o + j, (p - label) * scale);
            }
        }
        correct = right;
        return loss / rows;
    }

    /**
     * Columns of a weight gradient computed (and applied) at a time: a 784 x 128 tile is 392 KiB. Each tile is one BLAS
     * call, and each call packs all of {@code a} (rows x nIn) again: at 32 columns (a 98 KiB, L2-sized tile) that packing
     * cost more than the cache saved. Measured 2026-12-04, mnist-dense-512, epoch of 60,000 examples: two single-thread
     * processes side by side at batch 64 (as two Spark workers) 1.75 s at 32 columns, 1.45-1.55 s at 64, 128, 256 and
     * 512; one process with two lanes at batch 128 0.89 s at 32, 0.83 s at 64-256.
     */
    static final int TILE_COLUMNS = 128;
    /** Multiply-adds below which a product is not split into lanes (about 20 µs of one core's BLAS). */
    static final long PARALLEL_MACS = 1L << 20;
    /** The fewest columns a lane takes. */
    static final int MIN_LANE_COLUMNS = 16;

    /**
     * The backward pass and the updater, layer by layer from the top. For each layer the gradient below it is taken
     * first (it needs the layer's weights before their update), then the weight and bias gradients and their updates
     * ({@link #weightColumns}); each of the two split into lanes by columns when it is large enough.
     */
    private void backwardAndUpdate(FusedBuffers buf, StepTeam team, int lanes, FloatPointer input, int rows,
                                   int iteration, int epoch) {
        for (int l = layers.length - 1; l >= 0; l--) {
            int layer = l;
            int nIn = layers[l].nIn();
            int nOut = layers[l].nOut();
            FloatPointer a = l == 0 ? input : buf.actPointer[l - 1];
            if (l > 0) {
                // δ_below = (δ·Wᵀ) ⊙ f'(z_below), before this layer's weights change; the examples' own gradient (l = 0)
                // is never needed. Split by columns of δ_below.
                int k = lanesFor(lanes, rows, nIn, nOut);
                if (k == 1) {
                    belowColumns(buf, buf.lane(0), layer, rows, 0, nIn);
                } else {
                    team.run(k, t -> belowColumns(buf, buf.lane(t), layer, rows, from(nIn, t, k), from(nIn, t + 1, k)));
                }
            }
            int k = lanesFor(lanes, rows, nIn, nOut);
            if (k == 1) {
                weightColumns(buf, buf.lane(0), layer, a, rows, 0, nOut, iteration, epoch);
            } else {
                team.run(k, t -> weightColumns(buf, buf.lane(t), layer, a, rows, from(nOut, t, k), from(nOut, t + 1, k),
                        iteration, epoch));
            }
        }
    }

    /** Columns [i0, i1) of δ_below = (δ·Wᵀ) ⊙ f'(z_below) for layer l (l > 0). */
    private void belowColumns(FusedBuffers buf, FusedBuffers.Lane lane, int l, int rows, int i0, int i1) {
        Layer layer = layers[l];
        int nIn = layer.nIn();
        int nOut = layer.nOut();
        openblas_nolapack.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, i1 - i0, nOut, 1f,
                buf.deltaPointer[l], nOut, lane.weights.at(w[l], i0), nIn, 0f, lane.below.at(buf.deltaPointer[l - 1], i0), nIn);
        Activation below = layers[l - 1].activation();
        forEachRowSegment(rows, nIn, i0, i1 - i0,
                (offset, n) -> derivative(lane, buf.delta[l - 1], buf.act[l - 1], offset, n, below));
    }

    /**
     * Columns [j0, j1) of layer l's gradient and update: db = δᵀ·1 into the gradient array, then the weight gradient a
     * tile of {@link #TILE_COLUMNS} output columns at a time into the lane's buffer, each tile's update applied
     * at once, while it is in cache, then the bias's update. The weights' gradient never goes to the network's gradient
     * array: writing 1.6 MB there and reading it back for the updater was a third of the memory traffic of a step of
     * mnist-dense-512 (two workers stream their own copies side by side, and the updater is bound by memory).
     */
    private void weightColumns(FusedBuffers buf, FusedBuffers.Lane lane, int l, FloatPointer a, int rows, int j0, int j1,
                               int iteration, int epoch) {
        Layer layer = layers[l];
        int nIn = layer.nIn();
        int nOut = layer.nOut();
        openblas_nolapack.cblas_sgemv(CblasRowMajor, CblasTrans, rows, j1 - j0, 1f, lane.delta.at(buf.deltaPointer[l], j0),
                nOut, buf.ones, 1, 0f, lane.biasGradient.at(db[l], j0), 1);
        FloatPointer tile = lane.tile((long) nIn * TILE_COLUMNS);
        for (int j = j0; j < j1; j += TILE_COLUMNS) {
            int columns = Math.min(TILE_COLUMNS, j1 - j);
            // dW[:, j..j+columns) = aᵀ·δ[:, j..j+columns) (nIn×columns, column-major as DL4J stores W)
            openblas_nolapack.cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, nIn, columns, rows, 1f,
                    a, nIn, lane.delta.at(buf.deltaPointer[l], j), nOut, 0f, tile, nIn);
            update(lane, layer.weights() + j * nIn, columns * nIn, lane.tileBuffer, 0, iteration, epoch);
        }
        update(lane, layer.bias() + j0, j1 - j0, gradientBuffer, layer.bias() + j0, iteration, epoch);
    }

    /**
     * Each updater block's rule on parameters [from, from + n), whose gradient is {@code grad} from {@code gradFrom}
     * on, as ND4J's updater ops compute it, then params −= update.
     */
    private void update(FusedBuffers.Lane buf, int from, int n, FloatBuffer grad, int gradFrom, int iteration, int epoch) {
        for (Block block : blocks) {
            int lo = Math.max(from, block.from());
            int hi = Math.min(from + n, block.to());
            if (lo >= hi) {
                continue;
            }
            GradientUpdater<?> u = block.updater();
            float lr = (float) u.getConfig().getLearningRate(iteration, epoch);
            int state = block.state() + (lo - block.from());
            int g = gradFrom + (lo - from);
            if (u instanceof SgdUpdater) {
                sgd(buf, lo, hi - lo, grad, g, lr);
            } else if (u instanceof RmsPropUpdater) {
                RmsProp c = (RmsProp) u.getConfig();
                rmsProp(buf, lo, state, hi - lo, grad, g, lr, (float) c.getRmsDecay(), (float) c.getEpsilon());
            } else {
                Nesterovs c = (Nesterovs) u.getConfig();
                nesterovs(buf, lo, state, hi - lo, grad, g, lr, (float) c.currentMomentum(iteration, epoch));
            }
        }
    }

    /** params −= lr·g, chunk by chunk. */
    private void sgd(FusedBuffers.Lane buf, int from, int n, FloatBuffer grad, int gradFrom, float lr) {
        float[] p = buf.chunkParams;
        float[] g = buf.chunkGradient;
        for (int done = 0; done < n; done += FusedBuffers.CHUNK) {
            int m = Math.min(FusedBuffers.CHUNK, n - done);
            paramsBuffer.get(from + done, p, 0, m);
            grad.get(gradFrom + done, g, 0, m);
            for (int i = 0; i < m; i++) {
                p[i] -= lr * g[i];
            }
            paramsBuffer.put(from + done, p, 0, m);
        }
    }

    /**
     * s = decay·s + (1 − decay)·g²; params −= lr·g / (√s + ε) (ND4J's rms_prop_updater), chunk by chunk; s below
     * {@link CpuRmsProp#stateFloor} becomes 0 (no subnormal floats: see there).
     */
    private void rmsProp(FusedBuffers.Lane buf, int from, int stateFrom, int n, FloatBuffer grad, int gradFrom, float lr,
                         float decay, float epsilon) {
        float keep = 1 - decay;
        float floor = CpuRmsProp.stateFloor(epsilon);
        float[] p = buf.chunkParams;
        float[] g = buf.chunkGradient;
        float[] s = buf.chunkState;
        for (int done = 0; done < n; done += FusedBuffers.CHUNK) {
            int m = Math.min(FusedBuffers.CHUNK, n - done);
            int po = from + done;
            int so = stateFrom + done;
            paramsBuffer.get(po, p, 0, m);
            grad.get(gradFrom + done, g, 0, m);
            stateBuffer.get(so, s, 0, m);
            for (int i = 0; i < m; i++) {
                float x = g[i];
                float mean = CpuRmsProp.meanSquare(s[i], x, decay, keep, floor);
                s[i] = mean;
                p[i] -= lr * x / ((float) Math.sqrt(mean) + epsilon);
            }
            paramsBuffer.put(po, p, 0, m);
            stateBuffer.put(so, s, 0, m);
        }
    }

    /**
     * v' = μ·v − lr·g; update = μ·v + (−μ − 1)·v'; params −= update (ND4J's nesterovs_updater), chunk by chunk.
     */
    private void nesterovs(FusedBuffers.Lane buf, int from, int stateFrom, int n, FloatBuffer grad, int gradFrom, float lr,
                           float momentum) {
        float momentumT = -momentum - 1;
        float[] p = buf.chunkParams;
        float[] g = buf.chunkGradient;
        float[] v = buf.chunkState;
        for (int done = 0; done < n; done += FusedBuffers.CHUNK) {
            int m = Math.min(FusedBuffers.CHUNK, n - done);
            int po = from + done;
            int so = stateFrom + done;
            paramsBuffer.get(po, p, 0, m);
            grad.get(gradFrom + done, g, 0, m);
            stateBuffer.get(so, v, 0, m);
            for (int i = 0; i < m; i++) {
                float prev = momentum * v[i];
                float next = prev - lr * g[i];
                // |v'| up to VELOCITY_FLOOR becomes 0, larger ones move towards 0 by it: see VELOCITY_FLOOR.
                v[i] = next - Math.max(-VELOCITY_FLOOR, Math.min(next, VELOCITY_FLOOR));
                p[i] -= prev + momentumT * next;
            }
            paramsBuffer.put(po, p, 0, m);
            stateBuffer.put(so, v, 0, m);
        }
    }

    /**
     * z = f(z) in place, chunk by chunk through a heap array: the JIT vectorises loops over heap arrays, not over
     * direct buffers (relu over a 64 x 512 batch: a tenth of a fused step's time outside its products, read and
     * written element by element through the buffer).
     */
    private static void activate(FusedBuffers.Lane buf, FloatBuffer z, int offset, int n, Activation activation) {
        if (activation == Activation.IDENTITY) {
            return;
        }
        float[] c = buf.chunkParams;
        for (int done = 0; done < n; done += FusedBuffers.CHUNK) {
            int m = Math.min(FusedBuffers.CHUNK, n - done);
            z.get(offset + done, c, 0, m);
            switch (activation) {
                case RELU -> {
                    // max(v, 0): ND4J's relu (v < 0 ? 0 : v, NaN stays NaN), without a branch per element.
                    for (int i = 0; i < m; i++) {
                        c[i] = Math.max(c[i], 0f);
                    }
                }
                case TANH -> {
                    for (int i = 0; i < m; i++) {
                        c[i] = (float) Math.tanh(c[i]);
                    }
                }
                case SIGMOID -> {
                    for (int i = 0; i < m; i++) {
                        c[i] = (float) (1 / (1 + Math.exp(-c[i])));
                    }
                }
                default -> throw new IllegalStateException(activation.toString());
            }
            z.put(offset + done, c, 0, m);
        }
    }

    /** δ ⊙= f'(z), from the activations a = f(z): relu 1[a > 0], tanh 1 − a², sigmoid a(1 − a); chunked as above. */
    private static void derivative(FusedBuffers.Lane buf, FloatBuffer delta, FloatBuffer a, int offset, int n,
                                   Activation activation) {
        if (activation == Activation.IDENTITY) {
            return;
        }
        float[] d = buf.chunkGradient;
        float[] v = buf.chunkState;
        for (int done = 0; done < n; done += FusedBuffers.CHUNK) {
            int m = Math.min(FusedBuffers.CHUNK, n - done);
            delta.get(offset + done, d, 0, m);
            a.get(offset + done, v, 0, m);
            switch (activation) {
                case RELU -> {
                    // δ·1[a > 0] without a branch: a = relu(z) >= 0, and a·2^100·2^100 is 0 for a = 0 and at least 1
                    // (inf for most) for every a > 0, the smallest subnormal included, so the min with 1 is the
                    // indicator. The branch `a > 0 ? δ : 0` was not vectorised and mispredicted on about half the
                    // units: 0.27 ms of a step at batch 128, more than all the rest outside the products.
                    for (int i = 0; i < m; i++) {
                        d[i] *= Math.min(v[i] * 0x1p100f * 0x1p100f, 1f);
                    }
                }
                case TANH -> {
                    for (int i = 0; i < m; i++) {
                        d[i] *= 1 - v[i] * v[i];
                    }
                }
                case SIGMOID -> {
                    for (int i = 0; i < m; i++) {
                        d[i] *= v[i] * (1 - v[i]);
                    }
                }
                default -> throw new IllegalStateException(activation.toString());
            }
            delta.put(offset + done, d, 0, m);
        }
    }

    /** The whole float buffer under {@code array}, positioned at the array's first element (contiguous arrays only). */
    private static FloatBuffer window(INDArray array) {
        if (array.dataType() != DataType.FLOAT || array.elementWiseStride() != 1) {
            throw new IllegalArgumentException("fused step: expected a contiguous float array, got " + array.shapeInfoToString());
        }
        FloatBuffer whole = array.data().asNioFloat();
        return whole.position((int) array.offset()).slice();
    }

    private static FloatPointer at(FloatPointer base, long elements) {
        return new FloatPointer(base).position(base.position() + elements);
    }

    /** A float pointer re-aimed at each mini-batch's array (no pointer object per step). */
    static final class Address extends FloatPointer {
        Address() {
            super((Pointer) null);
        }

        /** This pointer at {@code offset} floats past {@code base}'s position (within base's memory). */
        Address at(FloatPointer base, long offset) {
            address = base.address();
            position = base.position() + offset;
            limit = base.capacity();
            capacity = base.capacity();
            return this;
        }

        /** This pointer at the first element of {@code array}, which must be row-major with its own buffer. */
        Address at(INDArray array) {
            address = array.data().address();
            position = 0;
            limit = array.length();
            capacity = array.length();
            return this;
        }
    }
}
