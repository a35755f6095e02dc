package dev.imgtrain.train;

import dev.imgtrain.store.NioLocalFileSystem;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark settings imgtrain adds to a session unless they are given: one place for the launcher's commands and the
 * tests' local sessions.
 */
public final class SparkDefaults {
    private SparkDefaults() {
    }

    /**
     * Kryo with {@link KryoRegistration} unless {@code spark.serializer} is given (parameters, updater state and
     * results cross the wire every averaging round); on a local master, {@link NioLocalFileSystem} for {@code file:}
     * (no chmod process per created file) unless {@code spark.hadoop.fs.file.impl} is given.
     *
     * @param given  what spark-submit, the launcher or the caller already set
     * @param master the master the session will have
     */
    public static SparkSession.Builder apply(SparkSession.Builder builder, SparkConf given, String master) {
        if (!given.contains("spark.serializer")) {
            builder.config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                    .config("spark.kryo.registrator", KryoRegistration.class.getName());
        }
        if (master.startsWith("local") && !given.contains("spark.hadoop." + NioLocalFileSystem.KEY)) {
            builder.config("spark.hadoop." + NioLocalFileSystem.KEY, NioLocalFileSystem.class.getName());
        }
        return builder;
    }
}
