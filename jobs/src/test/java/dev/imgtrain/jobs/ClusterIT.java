package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Spark standalone cluster on 127.0.0.1 (deploy/local/cluster.sh: master and two 1-core workers, each its own
 * JVM, executors in JVMs of their own) and Spark's own SparkSubmit (deploy/local/submit.sh) with the shaded jar: the
 * whole pipeline on real MNIST, parameters serialized, broadcast and averaged across executor JVMs.
 */
class ClusterIT {
    private static String script(List<String> command, Map<String, String> env, long timeoutSeconds) throws Exception {
        Launched r = Launched.command(command, env, timeoutSeconds);
        assertEquals(0, r.code(), command + " failed:\n" + r.output());
        return r.output();
    }

    /**
     * Waits until the executor JVM uses CPU (at least 30 ms in 50 ms: fitting its split of an
     * averaging round, not waiting between rounds), so the kill lands on a task in flight. False when not seen.
     */
    private static boolean awaitBusy(ProcessHandle executor, long maxMillis) throws Exception {
        Path stat = Path.of("/proc/" + executor.pid() + "/stat");
        long deadline = System.currentTimeMillis() + maxMillis;
        long before = cpuTicks(stat);
        while (System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
            long now = cpuTicks(stat);
            if (now - before >= 4) { // clock ticks of 10 ms: 40 ms of CPU in 50 ms
                return true;
            }
            before = now;
        }
        return false;
    }

    private static long cpuTicks(Path stat) throws java.io.IOException {
        String s = Files.readString(stat);
        String[] fields = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14 and 15 of stat)
    }

    @Test
    void sparkSubmitRunOnAStandaloneClusterTrainsOnBothExecutors(@TempDir Path tmp) throws Exception {
        Path root = S3Server.ROOT;
        Map<String, String> env = Map.of(
                "IMGTRAIN_CLUSTER_DIR", root.resolve("jobs/target/cluster").toString(),
                "IMGTRAIN_CLUSTER_PORT", Integer.toString(dev.imgtrain.testing.Loopback.freePort()),
                "IMGTRAIN_CLUSTER_UI_PORT", Integer.toString(dev.imgtrain.testing.Loopback.freePort()),
                "IMGTRAIN_CLUSTER_WORKERS", "2", "IMGTRAIN_WORKER_CORES", "1", "IMGTRAIN_WORKER_MEMORY", "3g");
        String cluster = root.resolve("deploy/local/cluster.sh").toString();
        try {
            String started = script(List.of(cluster, "start"), env, 300);
            assertTrue(started.contains("2 workers x 1 core(s)"), started);

            Path warehouse = tmp.resolve("wh");
            List<String> submit = new ArrayList<>(List.of(root.resolve("deploy/local/submit.sh").toString(), "run",
                    "--source", LocalSpark.mnistDir().toString(), "--warehouse", warehouse.toString(),
                    "--epochs", "2", "--workers", "2", "--run-id", "cluster",
                    // A global batch of 64 (32 per worker), averaged every 50: twice the seed's updates per epoch.
                    // The seed's global 128 sits at 0.969-0.970 after 2 epochs (0.974 after 3); this gives 0.9729
                    // on local[2] (averaging every 5 gave 0.9727 with ten times the Spark jobs: 17 s against 40 s
                    // per epoch on the cluster). Runs are reproducible (seeded batch files and rounds, no
                    // shuffles), so the cluster gives the same figure every time. Rounds of 50 batches per worker
                    // also give the lost-worker run below a task in flight to lose.
                    "--set", "train.batch-size=32", "--set", "train.averaging-frequency=50"));
            String output = script(submit, env, 1500);
            assertTrue(output.contains("run cluster: test accuracy"), output);

            Path run = warehouse.resolve("runs/cluster");
            assertTrue(Files.exists(run.resolve("_SUCCESS")));
            JsonNode params = Warehouse.JSON.readTree(run.resolve("params.json").toFile());
            assertTrue(params.get("spark_master").asText().startsWith("spark://127.0.0.1:"), params.toString());
            JsonNode evaluation = Warehouse.JSON.readTree(run.resolve("evaluation.json").toFile());
            double accuracy = evaluation.get("accuracy").asDouble();
            System.out.printf("ClusterIT: test accuracy %.4f after 2 epochs on %s%n", accuracy, params.get("spark_master").asText());
            assertTrue(accuracy >= 0.97, "test accuracy after 2 epochs on the cluster: " + accuracy);

            JsonNode stats = Warehouse.JSON.readTree(run.resolve("training-stats.json").toFile());
            for (JsonNode epoch : stats.get("epochs")) {
                int trainingJvms = 0;
                for (JsonNode jvm : epoch.get("jvms")) {
                    if (jvm.at("/stats/ParameterAveragingWorkerFitTimesMs/count").asInt() > 0) {
                        trainingJvms++;
                    }
                }
                assertEquals(2, trainingJvms, "both executors fitted mini-batches in epoch " + epoch.get("epoch") + ": " + epoch);
            }

            // Issue 17: the same training again, with one worker JVM killed (SIGKILL) in epoch 2. Its executor goes
            // with it (Spark's WorkerWatcher); the driver sees the executor lost, and Spark runs the lost task (one
            // worker's split of the averaging round: its batch files, from the round's broadcast parameters) again
            // on the other executor. The round's average is then the one an undisturbed round gives.
            List<String> again = new ArrayList<>(List.of(root.resolve("deploy/local/submit.sh").toString(), "train",
                    "--warehouse", warehouse.toString(), "--epochs", "2", "--workers", "2", "--run-id", "lost-worker",
                    "--set", "train.batch-size=32", "--set", "train.averaging-frequency=50"));
            ProcessBuilder pb = new ProcessBuilder(again).redirectErrorStream(true);
            pb.environment().putAll(env);
            // The launcher's logging with Spark's task scheduling shown (conf/log4j2.properties turns it off): a task
            // lost with its executor is logged at INFO ("... its executor exited for a reason unrelated to the task").
            Path log4j = tmp.resolve("log4j2.properties");
            Files.writeString(log4j, Files.readString(root.resolve("conf/log4j2.properties"))
                    .replace("logger.tasks.level = off", "logger.tasks.level = info"));
            pb.environment().put("IMGTRAIN_LOG4J", log4j.toString());
            Process p = pb.start();
            StringBuilder seen = new StringBuilder();
            long workerPid = Long.parseLong(Files.readString(root.resolve("jobs/target/cluster/worker-1.pid")).trim());
            boolean killed = false;
            try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    seen.append(line).append('\n');
                    if (!killed && line.contains("epoch 1/2:")) {
                        Thread.sleep(1000); // into epoch 2's rounds
                        // The worker's whole node, as a machine loss: the executor JVM and the worker JVM, SIGKILL,
                        // while the executor fits its split of a round (a worker alone killed lets its executor
                        // finish the task in hand before it notices and exits).
                        ProcessHandle worker = ProcessHandle.of(workerPid).orElseThrow();
                        ProcessHandle executor = worker.children().findFirst().orElseThrow();
                        boolean busy = awaitBusy(executor, 20_000);
                        executor.destroyForcibly();
                        worker.destroyForcibly();
                        killed = true;
                        System.out.println("ClusterIT: killed worker-1 (pid " + workerPid + ") and its executor (pid "
                                + executor.pid() + ") with SIGKILL in epoch 2, "
                                + (busy ? "while the executor was fitting (CPU busy)" : "the executor not seen busy"));
                    }
                }
            }
            assertTrue(p.waitFor(600, TimeUnit.SECONDS));
            assertTrue(killed, seen.toString());
            assertEquals(0, p.exitValue(), seen.toString());
            seen.toString().lines().filter(l -> l.contains("executor exited for a reason unrelated") || l.contains("Lost executor")
                            || l.contains("Removing executor") || l.contains("Executor lost") || l.contains("epoch 2/2:"))
                    .forEach(l -> System.out.println("ClusterIT (lost worker): " + l));
            assertTrue(seen.toString().contains("Lost executor"), "the driver saw the executor go:\n" + seen);
            // Whether the kill caught a task in flight depends on timing: rounds are a few hundred ms of work between
            // the driver's averaging. Either way the assertions below hold; which case happened is printed.
            System.out.println("ClusterIT (lost worker): a task in flight was lost and run again: "
                    + seen.toString().contains("executor exited for a reason unrelated to the task"));
            Path lost = warehouse.resolve("runs/lost-worker");
            assertTrue(Files.exists(lost.resolve("_SUCCESS")));
            List<String> metrics = Files.readAllLines(lost.resolve("metrics.jsonl"));
            assertEquals(2, metrics.size(), metrics.toString());
            double lostAccuracy = Warehouse.JSON.readTree(metrics.get(1)).get("val_accuracy").asDouble();
            System.out.printf("ClusterIT: test accuracy %.4f with a worker killed in epoch 2, %.4f undisturbed%n",
                    lostAccuracy, accuracy);
            assertEquals(accuracy, lostAccuracy, 0.005, "within 0.5 points of the undisturbed run");
            // Spark drops a failed task's accumulator updates: the lost split is counted once, by its retry.
            List<String> undisturbed = Files.readAllLines(run.resolve("metrics.jsonl"));
            assertEquals(Warehouse.JSON.readTree(undisturbed.get(1)).get("examples").asLong(),
                    Warehouse.JSON.readTree(metrics.get(1)).get("examples").asLong(), "every example of epoch 2 fitted once");
        } finally {
            script(List.of(cluster, "stop"), env, 120);
        }
    }
}
