package dev.imgtrain.model;

import dev.imgtrain.config.NetworkSpec;
import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.charset.StandardCharsets;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GemmLayersTest {

    private static NetworkSpec spec(String preset, String layers) {
        return new ConfigLoader().withFlag("train.preset", preset)
                .withSetting("model.layer-implementation=" + layers).load().model();
    }

    private static DataSet batch(int rows, int inputs, int seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, rows, inputs);
        INDArray y = Nd4j.zeros(DataType.FLOAT, rows, 10);
        for (int r = 0; r < rows; r++) {
            y.putScalar(r, (r * 7 + seed) % 10, 1f);
        }
        return new DataSet(x, y);
    }

    private static void assertClose(INDArray expected, INDArray actual, double relative, String what) {
        double scale = Math.max(1e-6, Transforms.abs(expected).maxNumber().doubleValue());
        double diff = Transforms.abs(expected.sub(actual)).maxNumber().doubleValue();
        assertTrue(diff <= relative * scale, what + ": max difference " + diff + " against max " + scale);
    }

    @Test
    void countCorrectAgreesWithNd4jsArgMaxForCOrderFOrderAndViews() {
        Nd4j.getRandom().setSeed(5);
        INDArray scores = Nd4j.rand(DataType.FLOAT, 50, 7);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 50, 7);
        for (int r = 0; r < 50; r++) {
            labels.putScalar(r, (r * 3) % 7, 1);
        }
        long expected = scores.argMax(1).eq(labels.argMax(1)).castTo(DataType.INT).sumNumber().longValue();
        assertTrue(expected > 0 && expected < 50, "a mix of right and wrong: " + expected);
        assertEquals(expected, CorrectCount.count(scores, labels));
        assertEquals(expected, CorrectCount.count(scores.dup('f'), labels.dup('f')), "column-major");
        INDArray wide = Nd4j.rand(DataType.FLOAT, 60, 9);
        wide.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(5, 55), org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 8)).assign(scores);
        INDArray view = wide.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(5, 55), org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 8));
        assertTrue(view.isView());
        assertEquals(expected, CorrectCount.count(view, labels), "a view into a larger array");
    }

    @Test
    void presetsBuildGemmLayersUnlessAskedForDl4jsOwn() {
        MultiLayerNetwork gemm = NetworkFactory.network(spec("mnist-dense-32-16", "gemm"), 784, 10, 3);
        MultiLayerNetwork dl4j = NetworkFactory.network(spec("mnist-dense-32-16", "dl4j"), 784, 10, 3);
        assertSame(GemmLayers.Dense.class, gemm.getLayerWiseConfigurations().getConf(0).getLayer().getClass());
        assertSame(GemmLayers.Output.class, gemm.getLayerWiseConfigurations().getConf(2).getLayer().getClass());
        assertSame(GemmLayers.DenseImpl.class, gemm.getLayer(1).getClass());
        assertSame(GemmLayers.OutputImpl.class, gemm.getLayer(2).getClass());
        assertSame(DenseLayer.class, dl4j.getLayerWiseConfigurations().getConf(0).getLayer().getClass());
        assertSame(OutputLayer.class, dl4j.getLayerWiseConfigurations().getConf(2).getLayer().getClass());
        assertEquals(dl4j.params(), gemm.params(), "same initial weights from the same seed");
        assertEquals(dl4j.getLayerWiseConfigurations().getConf(1).getLayer(),
                gemm.getLayerWiseConfigurations().getConf(1).getLayer(), "every configuration field copied");
    }

    @Test
    void outputsGradientsAndScoresMatchDl4jsLayers() {
        for (String preset : new String[]{"mnist-dense-512", "mnist-dense-32-16"}) {
            MultiLayerNetwork gemm = NetworkFactory.network(spec(preset, "gemm"), 784, 10, 5);
            MultiLayerNetwork dl4j = NetworkFactory.network(spec(preset, "dl4j"), 784, 10, 5);
            DataSet b = batch(48, 784, 1);
            assertClose(dl4j.output(b.getFeatures()), gemm.output(b.getFeatures()), 1e-5, preset + " output");
            long hits = KeptPreOutput.HITS.sum();
            long skipped = GemmLayers.DenseImpl.INPUT_GRADIENTS_SKIPPED.sum();
            for (MultiLayerNetwork net : new MultiLayerNetwork[]{gemm, dl4j}) {
                net.setInput(b.getFeatures());
                net.setLabels(b.getLabels());
                net.computeGradientAndScore();
            }
            assertEquals(hits + gemm.getnLayers() - 1, KeptPreOutput.HITS.sum(),
                    preset + ": every hidden layer's backprop used its kept pre-activations");
            assertEquals(skipped + 1, GemmLayers.DenseImpl.INPUT_GRADIENTS_SKIPPED.sum(),
                    preset + ": the first layer's input gradient was left out, and only that one");
            assertEquals(dl4j.score(), gemm.score(), 1e-5 * Math.abs(dl4j.score()), preset + " score");
            assertClose(dl4j.gradient().gradient(), gemm.gradient().gradient(), 1e-4, preset + " gradient");
        }
    }

    @Test
    void onlyTheFirstLayerLeavesItsInputGradientOutAcrossJsonAndJavaSerialization() throws Exception {
        MultiLayerConfiguration conf = NetworkFactory.configuration(spec("mnist-dense-32-16", "gemm"), 784, 10, 3);
        for (MultiLayerConfiguration c : new MultiLayerConfiguration[]{conf, MultiLayerConfiguration.fromJson(conf.toJson()),
                org.apache.commons.lang3.SerializationUtils.clone(conf)}) {
            assertFalse(((GemmLayers.Dense) c.getConf(0).getLayer()).isInputGradient(), "layer 0");
            assertTrue(((GemmLayers.Dense) c.getConf(1).getLayer()).isInputGradient(), "layer 1");
        }
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        DataSet b = batch(8, 784, 2);
        net.setInput(b.getFeatures());
        net.setLabels(b.getLabels());
        net.computeGradientAndScore();
        org.deeplearning4j.nn.workspace.LayerWorkspaceMgr none = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
        net.getLayer(0).setInput(b.getFeatures(), none);
        INDArray hidden = net.getLayer(0).activate(true, none);
        assertEquals(null, net.getLayer(0).backpropGradient(Nd4j.rand(DataType.FLOAT, 8, 32), none).getSecond(),
                "no input gradient");
        net.getLayer(1).setInput(hidden, none);
        net.getLayer(1).activate(true, none);
        assertEquals(8, net.getLayer(1).backpropGradient(Nd4j.rand(DataType.FLOAT, 8, 16), none).getSecond().rows(),
                "a later layer still returns the gradient of its input");
    }

    @Test
    void trainingMatchesDl4jsLayersStepForStepWithDropoutAndStrayForwardPasses() {
        // Dropout on the hidden layers' inputs: the kept pre-activations must be those of the dropped-out input.
        MultiLayerNetwork gemm = dropoutNetwork(true);
        MultiLayerNetwork dl4j = dropoutNetwork(false);
        assertEquals(dl4j.params(), gemm.params());
        for (int i = 0; i < 15; i++) {
            DataSet b = batch(32, 64, 100 + i);
            if (i % 5 == 2) {
                // A training-mode forward pass on other data with no backprop after it must not leak into the next fit.
                DataSet stray = batch(32, 64, 999);
                Nd4j.getRandom().setSeed(7);
                gemm.feedForward(stray.getFeatures(), true);
                Nd4j.getRandom().setSeed(7);
                dl4j.feedForward(stray.getFeatures(), true);
            }
            Nd4j.getRandom().setSeed(1000 + i);
            gemm.fit(b);
            Nd4j.getRandom().setSeed(1000 + i);
            dl4j.fit(b);
        }
        INDArray moved = Transforms.abs(dl4j.params().sub(dropoutNetwork(false).params()));
        assertTrue(moved.maxNumber().doubleValue() > 1e-3, "training moved the weights");
        assertClose(dl4j.params(), gemm.params(), 1e-4, "params after 15 iterations");
    }

    private static MultiLayerNetwork dropoutNetwork(boolean gemm) {
        DenseLayer h1 = new DenseLayer.Builder().nIn(64).nOut(40).activation(Activation.RELU).dropOut(0.8).build();
        DenseLayer h2 = new DenseLayer.Builder().nIn(40).nOut(24).activation(Activation.TANH).dropOut(0.9).build();
        OutputLayer out = new OutputLayer.Builder(LossFunction.MCXENT).nIn(24).nOut(10).activation(Activation.SOFTMAX).build();
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(9).weightInit(WeightInit.XAVIER)
                .updater(new Sgd(0.1)).list()
                .layer(gemm ? GemmLayers.Dense.of(h1) : h1)
                .layer(gemm ? GemmLayers.Dense.of(h2) : h2)
                .layer(gemm ? GemmLayers.Output.of(out) : out)
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @Test
    void weightNoiseGoesToDl4jsPath() {
        DenseLayer stock = new DenseLayer.Builder().nIn(20).nOut(16).activation(Activation.RELU)
                .weightNoise(new org.deeplearning4j.nn.conf.weightnoise.DropConnect(0.7)).build();
        OutputLayer out = new OutputLayer.Builder(LossFunction.MSE).nIn(16).nOut(10).activation(Activation.IDENTITY).build();
        MultiLayerNetwork[] nets = new MultiLayerNetwork[2];
        for (int k = 0; k < 2; k++) {
            MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(4).updater(new Sgd(0.05)).list()
                    .layer(k == 0 ? GemmLayers.Dense.of((DenseLayer) stock.clone()) : stock.clone())
                    .layer(k == 0 ? GemmLayers.Output.of((OutputLayer) out.clone()) : out.clone()).build();
            nets[k] = new MultiLayerNetwork(conf);
            nets[k].init();
        }
        long hits = KeptPreOutput.HITS.sum();
        for (int i = 0; i < 5; i++) {
            DataSet b = batch(16, 20, i);
            Nd4j.getRandom().setSeed(50 + i);
            nets[0].fit(b);
            Nd4j.getRandom().setSeed(50 + i);
            nets[1].fit(b);
        }
        assertEquals(hits, KeptPreOutput.HITS.sum(), "a layer with weight noise keeps nothing");
        assertClose(nets[1].params(), nets[0].params(), 1e-5, "params");
    }

    @Test
    void theJsonKeepsTheLayersButSavedModelsNameDl4jsOwn(@TempDir java.nio.file.Path tmp) throws Exception {
        MultiLayerNetwork net = NetworkFactory.network(spec("mnist-dense-512", "gemm"), 784, 10, 11);
        net.fit(batch(16, 784, 3));
        MultiLayerConfiguration copy = MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson());
        assertSame(GemmLayers.Dense.class, copy.getConf(0).getLayer().getClass());
        assertSame(GemmLayers.Output.class, copy.getConf(1).getLayer().getClass());
        assertEquals(net.getLayerWiseConfigurations().getConf(0).getLayer(), copy.getConf(0).getLayer());
        assertEquals(512, ((DenseLayer) copy.getConf(0).getLayer()).getNOut());

        Warehouse warehouse = new Warehouse(tmp.toString(), new Configuration());
        ModelStore.save(warehouse, new Path(tmp.toString(), "model.zip"), net);
        assertSame(GemmLayers.Dense.class, net.getLayerWiseConfigurations().getConf(0).getLayer().getClass(),
                "the live network keeps its layers after the save");
        try (ZipFile zip = new ZipFile(tmp.resolve("model.zip").toFile())) {
            String json = new String(zip.getInputStream(zip.getEntry("configuration.json")).readAllBytes(),
                    StandardCharsets.UTF_8);
            assertTrue(json.contains("org.deeplearning4j.nn.conf.layers.DenseLayer"), json);
            assertTrue(json.contains("org.deeplearning4j.nn.conf.layers.OutputLayer"), json);
            assertFalse(json.contains("dev.imgtrain"), json);
        }
        MultiLayerNetwork loaded = ModelStore.load(warehouse, new Path(tmp.toString(), "model.zip"));
        assertSame(DenseLayer.class, loaded.getLayerWiseConfigurations().getConf(0).getLayer().getClass());
        assertSame(RmsProp.class, ((DenseLayer) loaded.getLayerWiseConfigurations().getConf(0).getLayer()).getIUpdater().getClass());
        assertEquals(net.params(), loaded.params());
        INDArray x = batch(8, 784, 4).getFeatures();
        assertClose(loaded.output(x), net.output(x), 1e-5, "the stock layers compute what imgtrain's did");
    }
}
