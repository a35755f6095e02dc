package dev.imgtrain.model;

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
        for (NetworkSpec.Hidden hidden : spec.hidden()) {
            layers.layer(index++, new DenseLayer.Builder().nIn(nIn).nOut(hidden.units())
                    .activation(activation(hidden.activation())).build());
            nIn = hidden.units();
        }
        layers.layer(index, new OutputLayer.Builder(LossFunction.valueOf(spec.loss().toUpperCase(Locale.ROOT)))
                .nIn(nIn).nOut(classes).activation(activation(spec.outputActivation())).build());
        return layers.build();
    }

    /** A freshly initialised network (weights drawn from the configuration's seed). */
    public static MultiLayerNetwork network(NetworkSpec spec, int inputs, int classes, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(configuration(spec, inputs, classes, seed));
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
