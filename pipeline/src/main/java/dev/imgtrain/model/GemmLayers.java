package dev.imgtrain.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;

/**
 * DL4J's dense and output layers with the forward product done as one {@code Nd4j.gemm} into DL4J's row-major
 * activations, and a dense layer's pre-activations kept from the training forward pass for the backpropagation after it
 * ({@code model.layer-implementation = gemm}).
 *
 * <p>Why: a JFR profile of plain {@code MultiLayerNetwork.fit} put DL4J 1.0.0-M2's dense forward product
 * ({@code BaseLayer.preOutputWithPreNorm}) at 42 % of the main thread's native time, for two reasons. It calls
 * {@code INDArray.mmuli} with a row-major result, which allocates a detached column-major temporary, multiplies into it
 * and copies back: 1.1 ms for the 128×784·784×512 product of {@code mnist-dense-512} against 0.5 ms for
 * {@code Nd4j.gemm} into the same row-major array (2 cores). And {@code BaseLayer.backpropGradient} computes the product
 * again, because the activation function overwrote it in place ({@link KeptPreOutput}).
 *
 * <p>Everything else is DL4J's: the layers extend DL4J's own configuration and implementation classes, parameters,
 * gradients, backpropagation, dropout, masks and the JSON are unchanged (the classes are named in the JSON, so Spark
 * executors build the same layers). Layer normalisation and weight noise go to DL4J's own path. Saved models name
 * DL4J's stock classes ({@link NetworkFactory#portable}), so a model.zip loads in any DL4J 1.0.0-M2.
 */
public final class GemmLayers {
    private GemmLayers() {
    }

    /**
     * {@code layer}'s forward product input·W (+ bias) as one gemm into a row-major activations array of the workspace
     * (the layout DL4J's own layers produce, so the element-wise ops after it see the same strides).
     */
    static INDArray forward(INDArray input, org.deeplearning4j.nn.layers.BaseLayer<?> layer,
                            LayerWorkspaceMgr workspaceMgr) {
        INDArray weights = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
        INDArray bias = layer.hasBias() ? layer.getParam(DefaultParamInitializer.BIAS_KEY) : null;
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, weights.dataType(),
                new long[]{input.size(0), weights.size(1)}, 'c');
        Nd4j.gemm(input, weights, out, false, false, 1.0, 0.0);
        if (bias != null) {
            out.addiRowVector(bias);
        }
        return out;
    }

    /**
     * Whether {@code layer} takes the gemm path: no layer normalisation or weight noise, and a 2-d input whose width
     * matches its weights (anything else goes to DL4J's own path, with its checks and error messages).
     */
    static boolean takesGemmPath(org.deeplearning4j.nn.layers.BaseLayer<?> layer) {
        INDArray input = layer.input();
        INDArray weights = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
        return !layer.hasLayerNorm() && layer.layerConf().getWeightNoise() == null
                && input != null && input.rank() == 2 && input.columns() == weights.rows();
    }

    /** A DL4J layer configuration of {@code target}'s class with every field of {@code source} up to {@code stock}. */
    static <T> T copy(Object source, T target, Class<?> stock) {
        for (Class<?> c = stock; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    f.set(target, f.get(source));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("cannot copy " + c.getName() + "." + f.getName(), e);
                }
            }
        }
        return target;
    }

    static <L extends AbstractLayer<?>> L wire(L layer, NeuralNetConfiguration conf, ParamInitializer initializer,
                                               Collection<TrainingListener> listeners, int index, INDArray params,
                                               boolean initialize) {
        layer.setListeners(listeners);
        layer.setIndex(index);
        layer.setParamsViewArray(params);
        layer.setParamTable(initializer.init(conf, params, initialize));
        layer.setConf(conf);
        return layer;
    }

    /** {@link DenseLayer}'s configuration, building {@link DenseImpl}. */
    public static class Dense extends DenseLayer {
        /**
         * Whether backpropagation computes the gradient with respect to this layer's input. False only for a first
         * layer fed the network's input directly (no preprocessor), whose input gradient MultiLayerNetwork's
         * {@code fit} discards: DL4J computes it anyway, a matrix product as large as the layer's forward one (for
         * mnist-dense-512, a third of all the training step's products).
         */
        private boolean inputGradient = true;

        public Dense() {
        }

        public boolean isInputGradient() {
            return inputGradient;
        }

        public void setInputGradient(boolean inputGradient) {
            this.inputGradient = inputGradient;
        }

        /** This layer, not computing the gradient with respect to its input (see {@link #isInputGradient}). */
        public Dense withoutInputGradient() {
            inputGradient = false;
            return this;
        }

        /** The same layer as a stock DL4J {@code DenseLayer} configuration (before or after the list's build). */
        public static Dense of(DenseLayer stock) {
            return copy(stock, new Dense(), DenseLayer.class);
        }

        public DenseLayer toDl4j() {
            return copy(this, new DenseLayer(), DenseLayer.class);
        }

        @Override
        public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int index,
                                 INDArray params, boolean initialize, DataType dataType) {
            LayerValidation.assertNInNOutSet("DenseLayer", getLayerName(), index, getNIn(), getNOut());
            return wire(new DenseImpl(conf, dataType), conf, initializer(), listeners, index, params, initialize);
        }
    }

    /** {@link OutputLayer}'s configuration, building {@link OutputImpl}. */
    public static class Output extends OutputLayer {
        public Output() {
        }

        public static Output of(OutputLayer stock) {
            return copy(stock, new Output(), OutputLayer.class);
        }

        public OutputLayer toDl4j() {
            return copy(this, new OutputLayer(), OutputLayer.class);
        }

        @Override
        public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int index,
                                 INDArray params, boolean initialize, DataType dataType) {
            LayerValidation.assertNInNOutSet("OutputLayer", getLayerName(), index, getNIn(), getNOut());
            return wire(new OutputImpl(conf, dataType), conf, initializer(), listeners, index, params, initialize);
        }
    }

    /**
     * DL4J's dense layer implementation; the forward product differs, and a training forward pass keeps its
     * pre-activations for the backpropagation after it ({@link KeptPreOutput}).
     */
    public static class DenseImpl extends org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer {
        /** Backpropagations that left the input gradient out ({@link Dense#isInputGradient}; all layers, all threads). */
        static final java.util.concurrent.atomic.LongAdder INPUT_GRADIENTS_SKIPPED = new java.util.concurrent.atomic.LongAdder();
        private final transient KeptPreOutput kept = new KeptPreOutput();

        public DenseImpl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            kept.clear();
            boolean keep = training && takesGemmPath(this);
            INDArray z = preOutput(training, workspaceMgr);
            if (keep) {
                kept.keep(input, workspaceMgr.dup(ArrayType.ACTIVATIONS, z));
            }
            INDArray out = layerConf().getActivationFn().getActivation(z, training);
            if (maskArray != null) {
                applyMask(out);
            }
            return out;
        }

        /**
         * DL4J's {@code BaseLayer.backpropGradient} (bias and weight gradients into their views, in that order) without
         * the input gradient when the configuration says it is not wanted ({@link Dense#isInputGradient}): the
         * returned epsilon is then null, which MultiLayerNetwork accepts for its first layer (it discards that
         * gradient unless asked for input gradients). Layers with dropout, layer normalisation or weight noise take
         * DL4J's own path.
         */
        @Override
        public org.nd4j.common.primitives.Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray> backpropGradient(
                INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            if (!(layerConf() instanceof Dense d) || d.isInputGradient() || !takesGemmPath(this)
                    || layerConf().getIDropout() != null) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            assertInputSet(true);
            INDArray z = preOutputWithPreNorm(true, true, workspaceMgr).getFirst();
            INDArray delta = layerConf().getActivationFn().backprop(z, epsilon).getFirst();
            if (maskArray != null) {
                applyMask(delta);
            }
            org.deeplearning4j.nn.gradient.Gradient ret = new org.deeplearning4j.nn.gradient.DefaultGradient();
            if (hasBias()) {
                INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
                delta.sum(biasGrad, 0);
                ret.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
            }
            INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
            Nd4j.gemm(input.castTo(weightGrad.dataType()), delta, weightGrad, true, false, 1.0, 0.0);
            ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
            weightNoiseParams.clear();
            INPUT_GRADIENTS_SKIPPED.increment();
            return new org.nd4j.common.primitives.Pair<>(ret, null);
        }

        @Override
        public void setInput(INDArray input, LayerWorkspaceMgr workspaceMgr) {
            kept.clear();
            super.setInput(input, workspaceMgr);
        }

        @Override
        public void clear() {
            kept.clear();
            super.clear();
        }

        @Override
        protected org.nd4j.common.primitives.Pair<INDArray, INDArray> preOutputWithPreNorm(
                boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
            if (!takesGemmPath(this)) {
                kept.clear();
                return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
            }
            if (training && forBackprop) {
                INDArray z = kept.take(input);
                if (z != null) {
                    return new org.nd4j.common.primitives.Pair<>(z, z);
                }
            }
            assertInputSet(forBackprop);
            applyDropOutIfNecessary(training, workspaceMgr);
            INDArray out = forward(input.castTo(dataType), this, workspaceMgr);
            if (maskArray != null) {
                applyMask(out);
            }
            return new org.nd4j.common.primitives.Pair<>(out, out);
        }
    }

    /**
     * DL4J's output layer implementation; the forward product differs, and a training step's score also counts the
     * examples whose pre-activations rank the true class first (the training accuracy of the epoch's history, read by
     * {@code TrainingHistory} through {@link #takeTrainingCorrect}: a 2-d argmax of the step's own pre-activations).
     */
    public static class OutputImpl extends org.deeplearning4j.nn.layers.OutputLayer {
        /** Set while {@link #computeScore} runs for a training step: its pre-activations are then counted. */
        private transient boolean countNext;
        private transient long trainingCorrect = -1;

        public OutputImpl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        /** Correct predictions of the last training step's forward pass, or -1 when none was scored since the last call. */
        public long takeTrainingCorrect() {
            long correct = trainingCorrect;
            trainingCorrect = -1;
            return correct;
        }

        /**
         * DL4J's score; for a training step (MultiLayerNetwork scores each step once, after its backpropagation, with
         * the same input and parameters) the pre-activations it computes are also counted.
         */
        @Override
        public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
            countNext = training;
            try {
                return super.computeScore(fullNetRegTerm, training, workspaceMgr);
            } finally {
                countNext = false;
            }
        }

        @Override
        protected INDArray preOutput2d(boolean training, LayerWorkspaceMgr workspaceMgr) {
            INDArray z = super.preOutput2d(training, workspaceMgr);
            if (countNext && getLabels() != null) {
                countNext = false;
                trainingCorrect = CorrectCount.count(z, getLabels());
            }
            return z;
        }

        @Override
        protected org.nd4j.common.primitives.Pair<INDArray, INDArray> preOutputWithPreNorm(
                boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
            if (!takesGemmPath(this)) {
                return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
            }
            assertInputSet(forBackprop);
            applyDropOutIfNecessary(training, workspaceMgr);
            INDArray out = forward(input.castTo(dataType), this, workspaceMgr);
            if (maskArray != null) {
                applyMask(out);
            }
            return new org.nd4j.common.primitives.Pair<>(out, out);
        }
    }
}
