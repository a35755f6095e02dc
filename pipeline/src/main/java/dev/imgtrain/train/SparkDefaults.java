package dev.imgtrain.train;

import dev.imgtrain.store.NioLocalFileSystem;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Spark settings imgtrain adds to a session unless they are given: one place for the launcher's commands and the
 * tests' local sessions.
 */
public final class SparkDefaults {
    static final String MAX_DIRECT_RESULT_SIZE = "spark.task.maxDirectResultSize";
    static final String DIRECT_RESULT_SIZE = "64m";

    private SparkDefaults() {
    }

    /**
     * Kryo with {@link KryoRegistration} unless {@code spark.serializer} is given (parameters, updater state and
     * results cross the wire every averaging round); on a local master, {@link NioLocalFileSystem} for {@code file:}
     * (no chmod process per created file) unless {@code spark.hadoop.fs.file.impl} is given; task results of up to
     * {@value #DIRECT_RESULT_SIZE} sent straight to the driver unless {@code spark.task.maxDirectResultSize} is given.
     * Each averaging round's task returns its worker's parameters and updater state (3.3 MB for mnist-dense-512, over
     * Spark's 1 MiB default): sent directly, the result rides the task's status message instead of being stored in the
     * executor's block manager and fetched from it by the driver: on local[2], 25-40 ms instead of 50-77 from a task's
     * last step to the driver holding its result (2 rounds an MNIST epoch). Spark caps the figure at
     * {@code spark.rpc.message.maxSize} (128 MiB by default) itself.
     *
     * @param given  what spark-submit, the launcher or the caller already set
     * @param master the master the session will have
     */
    public static SparkSession.Builder apply(SparkSession.Builder builder, SparkConf given, String master) {
        settings(given, master).forEach(builder::config);
        return builder;
    }

    /** The settings {@link #apply} adds, in order: those of the description above that {@code given} lacks. */
    static Map<String, String> settings(SparkConf given, String master) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!given.contains("spark.serializer")) {
            out.put("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
            out.put("spark.kryo.registrator", KryoRegistration.class.getName());
        }
        if (!given.contains(MAX_DIRECT_RESULT_SIZE)) {
            out.put(MAX_DIRECT_RESULT_SIZE, DIRECT_RESULT_SIZE);
        }
        if (master.startsWith("local") && !given.contains("spark.hadoop." + NioLocalFileSystem.KEY)) {
            out.put("spark.hadoop." + NioLocalFileSystem.KEY, NioLocalFileSystem.class.getName());
        }
        return out;
    }
}
