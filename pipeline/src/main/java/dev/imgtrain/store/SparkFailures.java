package dev.imgtrain.store;

import dev.imgtrain.datasets.InvalidArchiveException;
import org.apache.spark.SparkException;

/** Turns a failed Spark job back into the error a task raised, so the user reads the cause, not Spark's wrapper. */
public final class SparkFailures {
    private SparkFailures() {
    }

    /** The {@link InvalidArchiveException} behind a job failure when there is one, else the job failure itself. */
    public static RuntimeException rethrowCause(SparkException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidArchiveException invalid) {
                return new InvalidArchiveException(invalid.file(), invalid.getMessage().substring(invalid.file().length() + 2), e);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return new IllegalStateException("Spark job failed: " + e.getMessage(), e);
    }
}
