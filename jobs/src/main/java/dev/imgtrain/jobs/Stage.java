package dev.imgtrain.jobs;

import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.store.BuildInfo;
import dev.imgtrain.model.Nd4jBackend;
import dev.imgtrain.store.ObjectStorage;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.SparkDefaults;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every command does before its pipeline call: log the effective config, get the session, open the warehouse. */
final class Stage {
    private static final Logger LOG = LoggerFactory.getLogger(Stage.class);

    private Stage() {
    }

    /**
     * The session spark-submit (or bin/imgtrain, or a test) configured; the master is never set here. Adds
     * {@link SparkDefaults} where not given.
     */
    static SparkSession session(String command, PipelineConfig config) {
        boolean readsArchives = command.equals("ingest") || command.equals("run");
        return readsArchives ? session(command, config, config.warehouse(), config.sourceOrDefault())
                : session(command, config, config.warehouse());
    }

    /** The session, with S3A configured and checked when any of {@code uris} is on s3a://. */
    static SparkSession session(String command, PipelineConfig config, String... uris) {
        dev.imgtrain.store.DiskSpace.reset();
        LOG.info("imgtrain {} {}", command, BuildInfo.versions());
        LOG.info("effective configuration: {}", config.rendered().replaceAll("\\s*\n\\s*", " "));
        SparkSession.Builder builder = SparkSession.builder().appName("imgtrain " + command);
        SparkConf given = new SparkConf();
        SparkDefaults.apply(builder, given, given.get("spark.master", ""));
        SparkSession spark = builder.getOrCreate();
        LOG.info("Spark {} master {} (default parallelism {}, serializer {})", spark.version(),
                spark.sparkContext().master(), spark.sparkContext().defaultParallelism(),
                spark.sparkContext().getConf().get("spark.serializer", "org.apache.spark.serializer.JavaSerializer"));
        ClusterWait.firstExecutor(spark.sparkContext(), config.executorWait());
        LOG.info("ND4J: {}", Nd4jBackend.describe());
        ObjectStorage.configure(spark, config.storage(), uris);
        dev.imgtrain.train.TaskProgress.attach(spark.sparkContext(), config.progress());
        return spark;
    }

    static Warehouse warehouse(SparkSession spark, PipelineConfig config) {
        return new Warehouse(config.warehouse(), spark.sparkContext().hadoopConfiguration(), config.storage().staleAfter());
    }
}
