package dev.imgtrain.model;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A DL4J {@link MultiLayerNetwork} whose {@code fit} runs {@link FusedStep} on each mini-batch when the network and the
 * batch allow it ({@code model.layer-implementation = fused}), and DL4J's own {@code fit} otherwise (the layers are
 * then {@link GemmLayers}'). Everything else (inference, evaluation, serialisation, the parameter and updater arrays) is
 * DL4J's, so dl4j-spark's parameter averaging, checkpoints and model.zip see an ordinary network.
 */
public class FusedNetwork extends MultiLayerNetwork {
    private static final Logger LOG = LoggerFactory.getLogger(FusedNetwork.class);
    private static final long serialVersionUID = 1L;

    private transient FusedStep step;
    /** Set once {@link FusedStep#unsupported} said no: this network trains with DL4J's fit from then on. */
    private transient String unsupported;
    private transient long trainingCorrect = -1;

    public FusedNetwork(MultiLayerConfiguration conf) {
        super(conf);
    }

    /**
     * A fused network over {@code plain}'s own configuration, parameter array, updater state and listeners (no copy):
     * for dl4j-spark's worker, which builds a plain network each averaging round.
     */
    public static FusedNetwork over(MultiLayerNetwork plain) {
        FusedNetwork fused = new FusedNetwork(plain.getLayerWiseConfigurations());
        fused.init(plain.params(), false);
        fused.setUpdater(new MultiLayerUpdater(fused, plain.getUpdater(true).getStateViewArray()));
        fused.setListeners(plain.getListeners());
        return fused;
    }

    /** The fused step bound to this network's current arrays, or null when the network is not one it can train. */
    private FusedStep step() {
        if (unsupported != null) {
            return null;
        }
        if (step == null || !step.boundTo(this)) {
            String why = FusedStep.unsupported(this);
            if (why != null) {
                unsupported = why;
                LOG.info("fused training step: not for this network ({}); DL4J's layers train it", why);
                return null;
            }
            step = FusedStep.of(this);
        }
        return step;
    }

    @Override
    public void fit(org.nd4j.linalg.dataset.api.DataSet data) {
        fit(data, 1);
    }

    /** One mini-batch on {@code lanes} lanes (see {@link #fit(DataSetIterator)}). */
    private void fit(org.nd4j.linalg.dataset.api.DataSet data, int lanes) {
        FusedStep s = step();
        if (s != null && s.fit(data, lanes)) {
            trainingCorrect = s.correct();
            return;
        }
        trainingCorrect = -1;
        super.fit(data);
    }

    /**
     * Each mini-batch through the fused step, then the epoch count, as DL4J does. When the BLAS library has more than
     * one thread (a single process given several cores; never a Spark worker, which bin/imgtrain gives one), the steps
     * of this epoch take them over as lanes: each lane a Java thread calling BLAS single-threaded on its share of each
     * layer's columns, its activations and its share of the updater (2 lanes: 1.7 against 2.9 ms a step of
     * mnist-dense-512 at batch 128 with BLAS on 2 threads, which splits only the products). The BLAS library is set
     * to one thread for the epoch and back after it: a change costs OpenBLAS about 0.6 ms, too much for every step.
     */
    @Override
    public void fit(DataSetIterator iterator) {
        if (step() == null) {
            super.fit(iterator);
            return;
        }
        if (!iterator.hasNext() && iterator.resetSupported()) {
            iterator.reset();
        }
        for (TrainingListener l : getListeners()) {
            l.onEpochStart(this);
        }
        int lanes = FusedStep.blasThreads();
        if (lanes > 1) {
            FusedStep.setBlasThreads(1);
        }
        try {
            while (iterator.hasNext()) {
                fit(iterator.next(), lanes);
            }
        } finally {
            if (lanes > 1) {
                FusedStep.setBlasThreads(lanes);
            }
        }
        for (TrainingListener l : getListeners()) {
            l.onEpochEnd(this);
        }
        incrementEpochCount();
    }

    /**
     * Correct predictions of the last training step's forward pass (the fused step's, or {@link GemmLayers}' output
     * layer's when DL4J fitted it), or -1 when none was recorded since the last call.
     */
    public long takeTrainingCorrect() {
        long correct = trainingCorrect;
        trainingCorrect = -1;
        if (correct >= 0) {
            return correct;
        }
        return getOutputLayer() instanceof GemmLayers.OutputImpl out ? out.takeTrainingCorrect() : -1;
    }
}
