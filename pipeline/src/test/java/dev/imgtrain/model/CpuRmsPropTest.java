package dev.imgtrain.model;

import dev.imgtrain.config.NetworkSpec;
import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuRmsPropTest {

    private static NetworkSpec spec(String implementation) {
        // DL4J's training path (gemm layers), where the updater runs: the fused step has its own RMSProp loop.
        return new ConfigLoader().withSetting("model.updater.implementation=" + implementation)
                .withSetting("model.layer-implementation=gemm").load().model();
    }

    /** One update of ND4J's op and of CpuRmsProp's loop on copies of the same gradient and state views. */
    private static void assertSameStep(INDArray gradient, INDArray state, double lr) {
        INDArray g1 = gradient.dup();
        INDArray s1 = state.dup();
        GradientUpdater<?> nd4j = new RmsProp(lr, 0.9, 1e-7).instantiate(s1, false);
        nd4j.applyUpdater(g1, 0, 0);
        GradientUpdater<?> java = new CpuRmsProp(lr, 0.9, 1e-7).instantiate(state, false);
        assertInstanceOf(CpuRmsProp.Updater.class, java);
        long loops = CpuRmsProp.Updater.LOOP_STEPS.sum();
        java.applyUpdater(gradient, 0, 0);
        assertEquals(gradient.dataType() == DataType.FLOAT ? loops + 1 : loops, CpuRmsProp.Updater.LOOP_STEPS.sum(),
                "float32 goes through the Java loop, other types through ND4J's op");
        double scale = Transforms.abs(g1).maxNumber().doubleValue();
        assertTrue(scale > 0);
        assertEquals(0, Transforms.abs(g1.sub(gradient)).maxNumber().doubleValue(), 1e-5 * scale, "update");
        assertEquals(0, Transforms.abs(s1.sub(state)).maxNumber().doubleValue(),
                1e-6 * Transforms.abs(s1).maxNumber().doubleValue(), "state");
    }

    @Test
    void oneStepMatchesNd4jsOpOnWholeArraysAndOnViewsWithOffsets() {
        Nd4j.getRandom().setSeed(3);
        assertSameStep(Nd4j.rand(DataType.FLOAT, 1, 5000).subi(0.5), Nd4j.rand(DataType.FLOAT, 1, 5000), 0.001);
        // Views into larger buffers, at different offsets: the loop must read and write only their own elements.
        INDArray gBase = Nd4j.rand(DataType.FLOAT, 1, 9000).subi(0.5);
        INDArray sBase = Nd4j.rand(DataType.FLOAT, 1, 9000);
        INDArray gOutside = gBase.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(0, 1000)).dup();
        INDArray sOutside = sBase.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(7000, 9000)).dup();
        INDArray g = gBase.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(1000, 6000));
        INDArray s = sBase.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(2000, 7000));
        assertNotEquals(0, g.offset());
        assertSameStep(g, s, 0.01);
        assertEquals(gOutside, gBase.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(0, 1000)));
        assertEquals(sOutside, sBase.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(7000, 9000)));
    }

    /**
     * States from 1e-45 (subnormal) to 0.1 and gradients from 0 to 0.1: the Java loop's updates are, to two ulps, those
     * of the same float arithmetic without the floor (Java's float arithmetic is IEEE, so they are equal where the floor
     * changes nothing; where √s + ε lands one ulp of ε apart, the quotient is one or two ulps apart), its state is that
     * arithmetic's where it is at least 1e-20, and it holds no subnormal float where that arithmetic and ND4J's op keep
     * them (see {@link CpuRmsProp#stateFloor}).
     */
    @Test
    void stateUnderTheFloorBecomesZeroAndUpdatesMoveByTwoUlpsAtMost() {
        int n = 20_000;
        java.util.Random random = new java.util.Random(17);
        float[] gradient = new float[n];
        float[] state = new float[n];
        for (int i = 0; i < n; i++) {
            state[i] = (float) Math.pow(10, -45 + 44 * random.nextDouble());
            gradient[i] = i % 4 == 0 ? 0f : (float) ((random.nextBoolean() ? 1 : -1) * Math.pow(10, -30 + 29 * random.nextDouble()));
        }
        INDArray g1 = Nd4j.createFromArray(gradient).reshape(1, n);
        INDArray s1 = Nd4j.createFromArray(state).reshape(1, n);
        new RmsProp(0.002, 0.9, 1e-7).instantiate(s1, false).applyUpdater(g1, 0, 0);
        INDArray g2 = Nd4j.createFromArray(gradient).reshape(1, n);
        INDArray s2 = Nd4j.createFromArray(state).reshape(1, n);
        new CpuRmsProp(0.002, 0.9, 1e-7).instantiate(s2, false).applyUpdater(g2, 0, 0);
        float[] nd4jUpdate = g1.toFloatVector();
        float[] nd4jState = s1.toFloatVector();
        float[] javaUpdate = g2.toFloatVector();
        float[] javaState = s2.toFloatVector();
        int nd4jSubnormal = 0;
        int plainSubnormal = 0;
        int flushed = 0;
        for (int i = 0; i < n; i++) {
            float x = gradient[i];
            float mean = state[i] * 0.9f + x * x * (1 - 0.9f);
            float update = 0.002f * x / ((float) Math.sqrt(mean) + 1e-7f);
            assertTrue(Math.abs(javaUpdate[i] - update) <= 2 * Math.ulp(update),
                    "update " + i + ": " + javaUpdate[i] + " against " + update + " (state " + state[i] + ")");
            assertEquals(nd4jUpdate[i], javaUpdate[i], 1e-5 * Math.abs(nd4jUpdate[i]), "ND4J's update " + i);
            assertTrue(javaState[i] == 0 || javaState[i] >= Float.MIN_NORMAL, "subnormal state " + javaState[i]);
            if (mean >= 1e-20f) {
                assertEquals(mean, javaState[i], Math.ulp(mean), "state " + i);
            }
            plainSubnormal += mean != 0 && mean < Float.MIN_NORMAL ? 1 : 0;
            nd4jSubnormal += nd4jState[i] != 0 && nd4jState[i] < Float.MIN_NORMAL ? 1 : 0;
            flushed += javaState[i] == 0 && mean != 0 ? 1 : 0;
        }
        System.out.printf("of %d states, subnormal after the step: %d without the floor, %d in ND4J's op; the Java loop set"
                + " %d to 0%n", n, plainSubnormal, nd4jSubnormal, flushed);
        assertTrue(plainSubnormal > n / 20 && flushed > plainSubnormal, "the inputs reach below the floor: " + flushed);
    }

    @Test
    void doubleArraysGoToNd4jsOp() {
        INDArray g = Nd4j.rand(DataType.DOUBLE, 1, 300).subi(0.5);
        assertSameStep(g, Nd4j.rand(DataType.DOUBLE, 1, 300), 0.001);
    }

    @Test
    void trainingMatchesDl4jsRmsPropStepForStep() {
        MultiLayerNetwork java = NetworkFactory.network(spec("java"), 784, 10, 11);
        MultiLayerNetwork nd4j = NetworkFactory.network(spec("nd4j"), 784, 10, 11);
        assertInstanceOf(CpuRmsProp.class, ((BaseLayer) java.getLayerWiseConfigurations().getConf(0).getLayer()).getIUpdater());
        assertSame(RmsProp.class, ((BaseLayer) nd4j.getLayerWiseConfigurations().getConf(0).getLayer()).getIUpdater().getClass());
        assertEquals(java.params(), nd4j.params());
        Nd4j.getRandom().setSeed(5);
        long loops = CpuRmsProp.Updater.LOOP_STEPS.sum();
        for (int i = 0; i < 20; i++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 32, 784);
            INDArray y = Nd4j.zeros(DataType.FLOAT, 32, 10);
            for (int r = 0; r < 32; r++) {
                y.putScalar(r, (r * 7 + i) % 10, 1f);
            }
            java.fit(new DataSet(x, y));
            nd4j.fit(new DataSet(x, y));
        }
        assertEquals(loops + 20, CpuRmsProp.Updater.LOOP_STEPS.sum(), "every iteration's update went through the loop");
        INDArray moved = nd4j.params().sub(NetworkFactory.network(spec("nd4j"), 784, 10, 11).params());
        double tolerance = 1e-3 * Transforms.abs(moved).maxNumber().doubleValue();
        assertEquals(0, Transforms.abs(java.params().sub(nd4j.params())).maxNumber().doubleValue(), tolerance);
        assertEquals(0, Transforms.abs(java.getUpdater().getStateViewArray().sub(nd4j.getUpdater().getStateViewArray()))
                .maxNumber().doubleValue(), 1e-3 * Transforms.abs(nd4j.getUpdater().getStateViewArray()).maxNumber().doubleValue());
    }

    @Test
    void theConfigurationJsonKeepsItButSavedModelsNameDl4jsRmsProp(@TempDir java.nio.file.Path tmp) throws Exception {
        MultiLayerNetwork net = NetworkFactory.network(spec("java"), 784, 10, 11);
        net.fit(new DataSet(Nd4j.rand(DataType.FLOAT, 8, 784), Nd4j.eye(10).castTo(DataType.FLOAT).get(NDArrayIndex.interval(0, 8), NDArrayIndex.all())));
        // What Spark broadcasts to the workers: the JSON round trip gives the same updater class and values.
        MultiLayerConfiguration copy = MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson());
        CpuRmsProp updater = (CpuRmsProp) ((BaseLayer) copy.getConf(0).getLayer()).getIUpdater();
        assertEquals(0.002, updater.getLearningRate());
        assertEquals(0.9, updater.getRmsDecay());
        assertEquals(1e-7, updater.getEpsilon());

        Warehouse warehouse = new Warehouse(tmp.toString(), new Configuration());
        ModelStore.save(warehouse, new Path(tmp.toString(), "model.zip"), net);
        assertInstanceOf(CpuRmsProp.class, ((BaseLayer) net.getLayerWiseConfigurations().getConf(0).getLayer()).getIUpdater(),
                "the live network keeps its updater after the save");
        try (var zip = new java.util.zip.ZipFile(tmp.resolve("model.zip").toFile())) {
            String json = new String(zip.getInputStream(zip.getEntry("configuration.json")).readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(json.contains("org.nd4j.linalg.learning.config.RmsProp"), json);
            assertTrue(!json.contains("CpuRmsProp"), json);
        }
        MultiLayerNetwork loaded = ModelStore.load(warehouse, new Path(tmp.toString(), "model.zip"));
        assertSame(RmsProp.class, ((BaseLayer) loaded.getLayerWiseConfigurations().getConf(0).getLayer()).getIUpdater().getClass());
        assertEquals(net.params(), loaded.params());
        assertEquals(net.getUpdater().getStateViewArray(), loaded.getUpdater().getStateViewArray());
        assertTrue(Files.size(tmp.resolve("model.zip")) > 0);
    }
}
