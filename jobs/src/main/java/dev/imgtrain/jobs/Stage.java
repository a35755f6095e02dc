package dev.imgtrain.jobs;

import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.store.BuildInfo;
import dev.imgtrain.store.Warehouse;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every command does before its pipeline call: log the effective config, get the session, open the warehouse. */
final class Stage {
    private static final Logger LOG = LoggerFactory.getLogger(Stage.class);

    private Stage() {
    }

    /** The session spark-submit (or bin/imgtrain, or a test) configured; the master is never set here. */
    static SparkSession session(String command, PipelineConfig config) {
        LOG.info("imgtrain {} {}", command, BuildInfo.versions());
        LOG.info("effective configuration: {}", config.rendered().replaceAll("\\s*\n\\s*", " "));
        SparkSession spark = SparkSession.builder().appName("imgtrain " + command).getOrCreate();
        LOG.info("Spark {} master {} (default parallelism {}), ND4J backend {}", spark.version(),
                spark.sparkContext().master(), spark.sparkContext().defaultParallelism(),
                Nd4j.getBackend().getClass().getSimpleName());
        return spark;
    }

    static Warehouse warehouse(SparkSession spark, PipelineConfig config) {
        return new Warehouse(config.warehouse(), spark.sparkContext().hadoopConfiguration());
    }
}
