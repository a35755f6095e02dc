package dev.imgtrain.train;

import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.model.NetworkFactory;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Keras-style history in metrics.jsonl is the mean over every example of the epoch, on all workers. With a
 * learning rate of 1e-12 the weights do not move, so the epoch's training loss and accuracy must equal the initial
 * network's loss and accuracy on the whole training subset, computed here without Spark; and in a real run the
 * epoch-mean loss falls from epoch to epoch.
 */
class TrainingHistoryIT {
    private static final int EXAMPLES = 2560;
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static Warehouse warehouse;

    @BeforeAll
    static void setUp() {
        spark = LocalSpark.start("training-history");
        warehouse = LocalSpark.mnistWarehouse(spark, tmp.resolve("wh"));
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    private static ConfigLoader subset(String runId) {
        return new ConfigLoader().withSetting("train.max-examples=" + EXAMPLES).withSetting("train.checkpoints=false")
                .withSetting("train.averaging-frequency=4").withSetting("train.workers=2").withFlag("train.run-id", runId);
    }

    @ParameterizedTest
    @ValueSource(strings = {"fused", "gemm", "dl4j"})
    void frozenWeightsGiveTheWholeSubsetsLossAndAccuracy(String layers) {
        PipelineConfig config = subset("frozen-" + layers).withSetting("model.updater.name=sgd")
                .withSetting("model.updater.learning-rate=1e-12").withSetting("model.layer-implementation=" + layers)
                .withSetting("train.epochs=1").load();
        EpochMetrics m = TrainJob.run(spark, config, warehouse).epochs().get(0);

        MultiLayerNetwork initial = NetworkFactory.network(config.model(), 784, 10, config.train().seed());
        List<MiniBatches.Example> rows = MiniBatches.exampleRdd(spark.read().parquet(warehouse.featuresDir("mnist").toString())
                .where(col("split").equalTo("train")).orderBy("id").limit(EXAMPLES)).collect();
        Evaluation evaluation = new Evaluation(10);
        double lossSum = 0;
        Iterator<DataSet> batches = MiniBatches.batches(rows.iterator(), 500);
        while (batches.hasNext()) {
            DataSet batch = batches.next();
            evaluation.eval(batch.getLabels(), initial.output(batch.getFeatures(), false));
            lossSum += initial.score(batch, false) * batch.numExamples();
        }
        assertEquals(EXAMPLES, m.examples(), "every example of the epoch, both workers");
        assertEquals(evaluation.accuracy(), m.accuracy(), 1.0 / EXAMPLES, "accuracy " + m);
        assertEquals(lossSum / EXAMPLES, m.loss(), 1e-4 * lossSum / EXAMPLES, "loss " + m);
        assertTrue(m.accuracy() < 0.5, "an untrained network: " + m);
    }

    @Test
    void epochMeanLossFallsAndAccuracyRises() {
        TrainResult r = TrainJob.run(spark, subset("learning").withSetting("train.epochs=3").load(), warehouse);
        List<EpochMetrics> e = r.epochs();
        assertEquals(3, e.size());
        for (EpochMetrics m : e) {
            assertEquals(EXAMPLES, m.examples(), m.toString());
        }
        assertTrue(e.get(0).loss() > e.get(1).loss() && e.get(1).loss() > e.get(2).loss(), "loss per epoch: " + e);
        assertTrue(e.get(0).accuracy() < e.get(1).accuracy() && e.get(1).accuracy() < e.get(2).accuracy(), "accuracy: " + e);
        assertTrue(e.get(2).accuracy() > 0.85, "it learned: " + e);
    }
}
