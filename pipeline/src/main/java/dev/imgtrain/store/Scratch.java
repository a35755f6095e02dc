package dev.imgtrain.store;

import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;

import java.util.function.Function;

/**
 * The one way a stage uses scratch space: a fresh directory under {@code <warehouse>/_tmp/}, removed when the stage
 * ends. After a failure it first waits for Spark tasks still running: Spark aborts a job when one task fails without
 * waiting for the others, which would otherwise go on writing into the directory after it was removed.
 */
public final class Scratch {
    static final long WAIT_FOR_TASKS_MILLIS = 30_000;

    private Scratch() {
    }

    public static <T> T use(Warehouse warehouse, SparkContext sc, String purpose, Function<Path, T> stage) {
        Path dir = warehouse.newTempDir(purpose);
        try {
            return stage.apply(dir);
        } catch (Throwable failure) {
            SparkFailures.awaitNoRunningTasks(sc, WAIT_FOR_TASKS_MILLIS);
            throw failure;
        } finally {
            warehouse.deleteQuietly(dir);
        }
    }
}
