package dev.imgtrain.store;

import dev.imgtrain.datasets.InvalidArchiveException;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkExecutorInfo;

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

    /**
     * Waits (up to {@code maxMillis}) until no executor runs a task. When one task fails, Spark aborts the job without
     * waiting for the others; they may still be writing scratch files, so cleanup must wait for them to stop. The
     * running tasks are counted from the status tracker, which learns of task starts and ends through the listener
     * bus: the bus is drained first, or a task whose start was still queued (a loaded 2-core machine) counts as none
     * and the cleanup races it (BadInputIT saw its scratch directory come back after the command had returned).
     */
    public static void awaitNoRunningTasks(SparkContext sc, long maxMillis) {
        long deadline = System.currentTimeMillis() + maxMillis;
        try {
            sc.listenerBus().waitUntilEmpty(maxMillis);
        } catch (java.util.concurrent.TimeoutException e) {
            return; // the deadline has passed
        }
        while (System.currentTimeMillis() < deadline) {
            int running = 0;
            for (SparkExecutorInfo info : sc.statusTracker().getExecutorInfos()) {
                running += info.numRunningTasks();
            }
            if (running == 0) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
