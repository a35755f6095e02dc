package dev.imgtrain.model;

import dev.imgtrain.config.NetworkSpec;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import java.util.Locale;

/** Builds the DL4J configuration of a {@link NetworkSpec} for a dataset's input size and class count. */
public final class NetworkFactory {
    private NetworkFactory() {
    }

    public static MultiLayerConfiguration configuration(NetworkSpec spec, int inputs, int classes, long seed) {
        NeuralNetConfiguration.ListBuilder layers = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .weightInit(weightInit(spec.weightInit()))
                .updater(updater(spec.updater()))
                .list();
        int nIn = inputs;
        int index = 0;
        // fused trains with FusedStep and falls back to the gemm layers where it cannot (FusedNetwork).
        boolean gemm = !"dl4j".equals(spec.layerImplementation());
        for (NetworkSpec.Hidden hidden : spec.hidden()) {
            DenseLayer dense = new DenseLayer.Builder().nIn(nIn).nOut(hidden.units())
                    .activation(activation(hidden.activation())).build();
            // The first layer takes the examples as they are (no preprocessor): its input gradient is never used.
            layers.layer(index, gemm ? (index == 0 ? GemmLayers.Dense.of(dense).withoutInputGradient()
                    : GemmLayers.Dense.of(dense)) : dense);
            index++;
            nIn = hidden.units();
        }
        OutputLayer output = new OutputLayer.Builder(LossFunction.valueOf(spec.loss().toUpperCase(Locale.ROOT)))
                .nIn(nIn).nOut(classes).activation(activation(spec.outputActivation())).build();
        layers.layer(index, gemm ? GemmLayers.Output.of(output) : output);
        return layers.build();
    }

    /**
     * Runs {@code body} (a model serialisation) with {@code conf} naming only DL4J's own classes: {@link GemmLayers}'
     * layers as DL4J's {@code DenseLayer} / {@code OutputLayer}, {@link CpuRmsProp} as DL4J's {@code RmsProp} (same
     * fields, parameters and updater state), so that a saved model.zip loads without imgtrain's classes. The
     * configuration is restored afterwards.
     */
    public static <T> T portable(MultiLayerConfiguration conf, java.util.concurrent.Callable<T> body) throws Exception {
        java.util.List<NeuralNetConfiguration> confs = conf.getConfs();
        java.util.List<org.deeplearning4j.nn.conf.layers.Layer> originals = new java.util.ArrayList<>();
        try {
            for (NeuralNetConfiguration layerConf : confs) {
                org.deeplearning4j.nn.conf.layers.Layer original = layerConf.getLayer();
                originals.add(original);
                org.deeplearning4j.nn.conf.layers.Layer copy;
                if (original instanceof GemmLayers.Dense d) {
                    copy = d.toDl4j();
                } else if (original instanceof GemmLayers.Output o) {
                    copy = o.toDl4j();
                } else {
                    copy = original.clone();
                }
                if (copy instanceof org.deeplearning4j.nn.conf.layers.BaseLayer layer) {
                    if (layer.getIUpdater() instanceof CpuRmsProp fast) {
                        layer.setIUpdater(fast.toDl4j());
                    }
                    if (layer.getBiasUpdater() instanceof CpuRmsProp fast) {
                        layer.setBiasUpdater(fast.toDl4j());
                    }
                }
                layerConf.setLayer(copy);
            }
            return body.call();
        } finally {
            for (int i = 0; i < originals.size(); i++) {
                confs.get(i).setLayer(originals.get(i));
            }
        }
    }

    /**
     * A freshly initialised network (weights drawn from the configuration's seed): a {@link FusedNetwork} for
     * {@code model.layer-implementation = fused}.
     */
    public static MultiLayerNetwork network(NetworkSpec spec, int inputs, int classes, long seed) {
        MultiLayerConfiguration conf = configuration(spec, inputs, classes, seed);
        MultiLayerNetwork net = "fused".equals(spec.layerImplementation()) ? new FusedNetwork(conf)
                : new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    static IUpdater updater(NetworkSpec.Updater u) {
        return switch (u.name()) {
            case "sgd" -> new Sgd(u.learningRate());
            case "rmsprop" -> "java".equals(u.implementation())
                    ? new CpuRmsProp(u.learningRate(), u.rmsDecay(), u.epsilon())
                    : new RmsProp(u.learningRate(), u.rmsDecay(), u.epsilon());
            case "adam" -> new Adam(u.learningRate(), 0.9, 0.999, u.epsilon());
            case "nesterovs" -> new Nesterovs(u.learningRate(), u.momentum());
            default -> throw new IllegalArgumentException("updater " + u.name());
        };
    }

    static Activation activation(String name) {
        return Activation.valueOf(name.toUpperCase(Locale.ROOT));
    }

    static WeightInit weightInit(String name) {
        return WeightInit.valueOf(name.toUpperCase(Locale.ROOT));
    }
}
