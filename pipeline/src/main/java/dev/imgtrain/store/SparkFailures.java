package dev.imgtrain.store;

import dev.imgtrain.datasets.InvalidArchiveException;

/** Turns a failed Spark job back into the error a task raised, so the user reads the cause, not Spark's wrapper. */
public final class SparkFailures {
    private SparkFailures() {
    }

    /**
     * The {@link InvalidArchiveException} behind a failure when there is one (a task's, carried back by Spark as the
     * job failure's cause); else the failure itself, unchecked.
     */
    public static RuntimeException rethrowCause(Exception e) {
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof InvalidArchiveException invalid) {
                return invalid;
            }
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException("Spark job failed: " + e.getMessage(), e);
    }
}
