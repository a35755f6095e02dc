package dev.imgtrain.train;

import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.model.NetworkFactory;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The invariant DL4J's own TestCompareParameterAveragingSparkVsSingleMachine checks, on real MNIST mini-batches built
 * by imgtrain's {@link MiniBatches} and the mnist-dense-512 preset (RMSProp, so updater state must travel too):
 * one worker, averaging every mini-batch, the same batches in the same order ⇒ the parameters Spark training ends
 * with equal those of single-process {@code MultiLayerNetwork.fit}.
 */
class ParameterAveragingEquivalenceIT {
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static List<DataSet> batches;

    @BeforeAll
    static void setUp() {
        spark = LocalSpark.start("equivalence");
        Warehouse warehouse = LocalSpark.mnistWarehouse(spark, tmp.resolve("wh"));
        List<MiniBatches.Example> rows = MiniBatches.exampleRdd(spark.read().parquet(warehouse.featuresDir("mnist").toString())
                .where(col("split").equalTo("train")).orderBy("id").limit(4 * 128)
                ).collect();
        batches = new ArrayList<>();
        Iterator<DataSet> it = MiniBatches.batches(rows.iterator(), 128);
        it.forEachRemaining(batches::add);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    @Test
    void oneWorkerAveragingEveryStepEqualsSingleProcessFit() {
        assertEquals(4, batches.size());
        PipelineConfig config = new ConfigLoader().load();
        MultiLayerNetwork local = NetworkFactory.network(config.model(), 784, 10, 42);
        INDArray initial = local.params().dup();
        for (DataSet batch : batches) {
            local.fit(batch);
        }

        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        ParameterAveragingTrainingMaster master = new ParameterAveragingTrainingMaster.Builder(1, 128)
                .batchSizePerWorker(128).averagingFrequency(1).workerPrefetchNumBatches(0).saveUpdater(true)
                .exportDirectory(tmp.resolve("export").toUri().toString()).build();
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(jsc,
                NetworkFactory.network(config.model(), 784, 10, 42), master);
        assertEquals(0.0, maxAbsDiff(initial, sparkNet.getNetwork().params()), "same seed, same initial weights");
        for (DataSet batch : batches) {
            sparkNet.fit(jsc.parallelize(List.of(batch), 1));
        }

        INDArray fromSpark = sparkNet.getNetwork().params();
        assertTrue(maxAbsDiff(initial, local.params()) > 1e-3, "training moved the weights");
        double diff = maxAbsDiff(local.params(), fromSpark);
        assertTrue(diff < 1e-5, "max |local - spark| = " + diff);
    }

    /**
     * The same with imgtrain's master and fused workers ({@code model.layer-implementation = fused}, the default): the
     * Spark workers really take the fused step, and end where single-process DL4J (its own layers and RMSProp) does.
     */
    @Test
    void fusedWorkersAveragingEveryStepEqualSingleProcessDl4j() {
        PipelineConfig config = new ConfigLoader().load();
        assertEquals("fused", config.model().layerImplementation());
        dev.imgtrain.config.NetworkSpec dl4jSpec = new ConfigLoader().withSetting("model.layer-implementation=dl4j")
                .load().model().withUpdaterImplementation("nd4j");
        MultiLayerNetwork local = NetworkFactory.network(dl4jSpec, 784, 10, 42);
        INDArray initial = local.params().dup();
        for (DataSet batch : batches) {
            local.fit(batch);
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        RoundTrainingMaster master = new RoundTrainingMaster(new ParameterAveragingTrainingMaster.Builder(1, 128)
                .batchSizePerWorker(128).averagingFrequency(1).workerPrefetchNumBatches(0).saveUpdater(true)
                .exportDirectory(tmp.resolve("export-fused").toUri().toString()), true);
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(jsc,
                NetworkFactory.network(config.model(), 784, 10, 42), master);
        assertEquals(0.0, maxAbsDiff(initial, sparkNet.getNetwork().params()), "same seed, same initial weights");
        long fusedSteps = dev.imgtrain.model.FusedStep.steps();
        for (DataSet batch : batches) {
            sparkNet.fit(jsc.parallelize(List.of(batch), 1));
        }
        assertEquals(fusedSteps + batches.size(), dev.imgtrain.model.FusedStep.steps(), "each worker step was fused");
        assertTrue(maxAbsDiff(initial, local.params()) > 1e-3, "training moved the weights");
        double diff = maxAbsDiff(local.params(), sparkNet.getNetwork().params());
        assertTrue(diff < 1e-5, "max |local dl4j - spark fused| = " + diff);
    }

    private static double maxAbsDiff(INDArray a, INDArray b) {
        return Transforms.abs(a.sub(b)).maxNumber().doubleValue();
    }
}
