package dev.imgtrain.evaluate;

import dev.imgtrain.train.DistributedEvaluator;
import dev.imgtrain.train.EvaluationResult;
import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.preprocess.DatasetReader;
import dev.imgtrain.model.ModelStore;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.apache.spark.sql.functions.col;

/**
 * Evaluate: a committed run's {@code model.zip} on the test split of its dataset's features table →
 * {@code runs/<run-id>/evaluation.json}.
 */
public final class EvaluateJob {
    private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);
    public static final String SPLIT = "test";

    private EvaluateJob() {
    }

    public static EvaluationResult run(SparkSession spark, Warehouse warehouse, String runId, int batchSize) {
        return run(spark, warehouse, runId, batchSize, null);
    }

    /** The test split of {@code dataset}'s features, as read from the warehouse. */
    public static Dataset<Row> testSplit(SparkSession spark, Warehouse warehouse, String dataset) {
        return spark.read().parquet(warehouse.featuresDir(dataset).toString()).where(col("split").equalTo(SPLIT));
    }

    /**
     * Evaluates on {@code test} when given (a sweep keeps its dataset's test split persisted for all its trials),
     * otherwise on the test split read from the warehouse.
     */
    public static EvaluationResult run(SparkSession spark, Warehouse warehouse, String runId, int batchSize,
                                       Dataset<Row> test) {
        Path runDir = warehouse.runDir(runId);
        if (!warehouse.exists(new Path(runDir, "_SUCCESS"))) {
            throw new IllegalStateException("run '" + runId + "' is not a committed run in " + warehouse.runsDir()
                    + " (no _SUCCESS): it does not exist or its training did not finish");
        }
        String dataset = warehouse.readJson(new Path(runDir, "params.json"), java.util.Map.class).get("dataset").toString();
        DatasetManifest manifest = DatasetReader.featuresManifest(warehouse, dataset);
        MultiLayerNetwork network = ModelStore.load(warehouse, new Path(runDir, "model.zip"));
        spark.sparkContext().setJobDescription("evaluate " + runId + " on " + dataset + " " + SPLIT);
        try {
            EvaluationResult result = DistributedEvaluator.evaluate(test != null ? test : testSplit(spark, warehouse, dataset), network, manifest.classes(), batchSize)
                    .withRun(runId, SPLIT);
            warehouse.writeJson(new Path(runDir, "evaluation.json"), result);
            LOG.info("evaluate {}: accuracy {} loss {} on {} {} examples", runId, String.format("%.4f", result.accuracy()),
                    String.format("%.4f", result.loss()), result.examples(), SPLIT);
            return result;
        } finally {
            spark.sparkContext().setJobDescription(null);
        }
    }
}
