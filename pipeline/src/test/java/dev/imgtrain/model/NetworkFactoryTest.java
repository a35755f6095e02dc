package dev.imgtrain.model;

import dev.imgtrain.config.NetworkSpec;
import dev.imgtrain.config.ConfigLoader;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class NetworkFactoryTest {

    private static NetworkSpec preset(String name) {
        return new ConfigLoader().withFlag("train.preset", name).load().model();
    }

    @Test
    void mnistDense512IsTheSeedNetwork() {
        MultiLayerNetwork net = NetworkFactory.network(preset("mnist-dense-512"), 784, 10, 1);
        assertEquals(2, net.getnLayers());
        assertEquals(784L * 512 + 512 + 512 * 10 + 10, net.numParams());
        DenseLayer hidden = (DenseLayer) net.getLayerWiseConfigurations().getConf(0).getLayer();
        assertEquals(784, hidden.getNIn());
        assertEquals(512, hidden.getNOut());
        assertInstanceOf(ActivationReLU.class, hidden.getActivationFn());
        OutputLayer out = (OutputLayer) net.getLayerWiseConfigurations().getConf(1).getLayer();
        assertEquals(10, out.getNOut());
        assertInstanceOf(ActivationSoftmax.class, out.getActivationFn());
        assertEquals("LossMCXENT", out.getLossFn().getClass().getSimpleName());
        RmsProp updater = (RmsProp) ((BaseLayer) hidden).getIUpdater();
        assertEquals(0.002, updater.getLearningRate(), "the preset's starting rate (its lr-decay lowers it later)");
        assertEquals(0.9, updater.getRmsDecay());
    }

    @Test
    void mnistDense3216IsSeed003() {
        MultiLayerNetwork net = NetworkFactory.network(preset("mnist-dense-32-16"), 784, 10, 1);
        assertEquals(3, net.getnLayers());
        assertEquals(784L * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10, net.numParams());
        Sgd updater = (Sgd) ((BaseLayer) net.getLayerWiseConfigurations().getConf(2).getLayer()).getIUpdater();
        assertEquals(0.01, updater.getLearningRate());
    }

    @Test
    void theSeedDecidesTheInitialWeights() {
        NetworkSpec spec = preset("mnist-dense-32-16");
        assertEquals(NetworkFactory.network(spec, 784, 10, 7).params(), NetworkFactory.network(spec, 784, 10, 7).params());
        assertNotEquals(NetworkFactory.network(spec, 784, 10, 7).params(), NetworkFactory.network(spec, 784, 10, 8).params());
    }

    @Test
    void inputAndOutputComeFromTheDataset() {
        MultiLayerNetwork net = NetworkFactory.network(preset("mnist-dense-32-16"), 3072, 7, 1);
        assertEquals(3072L * 32 + 32 + 32 * 16 + 16 + 16 * 7 + 7, net.numParams());
    }
}
