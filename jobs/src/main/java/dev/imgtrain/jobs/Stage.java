package dev.imgtrain.jobs;

import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.store.BuildInfo;
import dev.imgtrain.store.NioLocalFileSystem;
import dev.imgtrain.store.ObjectStorage;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.KryoRegistration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every command does before its pipeline call: log the effective config, get the session, open the warehouse. */
final class Stage {
    private static final Logger LOG = LoggerFactory.getLogger(Stage.class);

    private Stage() {
    }

    /**
     * The session spark-submit (or bin/imgtrain, or a test) configured; the master is never set here. The
     * defaults added: Kryo with {@link KryoRegistration} when no {@code spark.serializer} is given, and on a local master
     * {@link NioLocalFileSystem} for {@code file:} unless {@code spark.hadoop.fs.file.impl} is given.
     */
    static SparkSession session(String command, PipelineConfig config) {
        boolean readsArchives = command.equals("ingest") || command.equals("run");
        return readsArchives ? session(command, config, config.warehouse(), config.sourceOrDefault())
                : session(command, config, config.warehouse());
    }

    /** The session, with S3A configured and checked when any of {@code uris} is on s3a://. */
    static SparkSession session(String command, PipelineConfig config, String... uris) {
        LOG.info("imgtrain {} {}", command, BuildInfo.versions());
        LOG.info("effective configuration: {}", config.rendered().replaceAll("\\s*\n\\s*", " "));
        SparkSession.Builder builder = SparkSession.builder().appName("imgtrain " + command);
        SparkConf given = new SparkConf();
        if (!given.contains("spark.serializer")) {
            // Kryo with ND4J's registrator: parameters, updater state and results cross the wire every averaging.
            builder.config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                    .config("spark.kryo.registrator", KryoRegistration.class.getName());
        }
        if (given.get("spark.master", "").startsWith("local") && !given.contains("spark.hadoop." + NioLocalFileSystem.KEY)) {
            // file: without a chmod process per created file; local masters only (see NioLocalFileSystem).
            builder.config("spark.hadoop." + NioLocalFileSystem.KEY, NioLocalFileSystem.class.getName());
        }
        SparkSession spark = builder.getOrCreate();
        LOG.info("Spark {} master {} (default parallelism {}, serializer {})", spark.version(),
                spark.sparkContext().master(), spark.sparkContext().defaultParallelism(),
                spark.sparkContext().getConf().get("spark.serializer", "org.apache.spark.serializer.JavaSerializer"));
        LOG.info("ND4J: {}", nd4jDevices());
        ObjectStorage.configure(spark, config.storage(), uris);
        return spark;
    }

    /** The ND4J backend and the devices it found (GPUs with the CUDA build), for the start-up log. */
    static String nd4jDevices() {
        java.util.Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        StringBuilder s = new StringBuilder(Nd4j.getBackend().getClass().getSimpleName())
                .append(", ").append(Nd4j.getAffinityManager().getNumberOfDevices()).append(" device(s)");
        for (String key : new String[]{"blas.vendor", "cores", "cuda.devicesInformation"}) {
            Object v = env.get(key);
            if (v != null) {
                s.append(", ").append(key).append(' ').append(v);
            }
        }
        // The threads this JVM's ND4J ops and BLAS calls use (OMP_NUM_THREADS; ND4J's own "omp.threads" property
        // reported 4 on a 2-core machine with OMP_NUM_THREADS=1, where both of these were 1).
        return s.append(", nd4j threads ").append(Nd4j.getEnvironment().maxThreads())
                .append(", blas threads ").append(Nd4j.factory().blas().getMaxThreads()).toString();
    }

    static Warehouse warehouse(SparkSession spark, PipelineConfig config) {
        return new Warehouse(config.warehouse(), spark.sparkContext().hadoopConfiguration(), config.storage().staleAfter());
    }
}
