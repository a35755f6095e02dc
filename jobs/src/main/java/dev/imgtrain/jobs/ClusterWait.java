package dev.imgtrain.jobs;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * On a cluster, the driver waits for its first executor before any work: a cluster without room for the executors
 * (a YARN NodeManager whose memory the driver's container took, a standalone master without workers) would otherwise
 * leave the first job waiting for as long as one waits, with Spark's "Initial job has not accepted any resources"
 * WARN every 15 s. After {@code cluster.executor-wait} it fails with one line saying what was asked for.
 */
final class ClusterWait {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterWait.class);

    private ClusterWait() {
    }

    static void firstExecutor(SparkContext sc, Duration wait) {
        if (sc.isLocal()) {
            return;
        }
        long start = System.nanoTime();
        long deadline = start + wait.toNanos();
        while (executors(sc) == 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(noExecutor(sc.master(), sc.getConf(), wait));
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the first executor", e);
            }
        }
        LOG.info("{} executor(s) registered ({} s after the session started)", executors(sc),
                String.format("%.1f", (System.nanoTime() - start) / 1e9));
    }

    /** Executors registered with the driver (the status tracker lists the driver too). */
    private static int executors(SparkContext sc) {
        return Math.max(0, sc.statusTracker().getExecutorInfos().length - 1);
    }

    /** The line: what the cluster did not give, in the properties a user sets, and what to do. */
    static String noExecutor(String master, SparkConf conf, Duration wait) {
        String memory = conf.get("spark.executor.memory", "1g");
        String overhead = conf.get("spark.executor.memoryOverhead", "10% of it, at least 384m");
        String instances = conf.get("spark.executor.instances", "");
        String asked = (instances.isEmpty() ? "executors" : instances + " executor(s)") + " of spark.executor.memory "
                + memory + " + memoryOverhead " + overhead + " and " + conf.get("spark.executor.cores", "1")
                + " core(s) each";
        String cluster = master.startsWith("yarn") ? "YARN" : master.startsWith("k8s") ? "Kubernetes"
                : "the standalone master " + master;
        String fix = master.startsWith("yarn") ? "lower them with IMGTRAIN_SUBMIT_OPTS or add NodeManagers"
                : master.startsWith("k8s") ? "lower them, or add nodes" : "lower them, or start workers with room for them";
        return "no executor registered within " + wait.toSeconds() + " s: " + cluster + " gave none of the " + asked
                + " asked for; " + fix + " (cluster.executor-wait sets how long to wait)";
    }
}
