package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * spark-submit to YARN with an HDFS warehouse (issue 19): deploy/local/hadoop.sh starts a real single-node Hadoop on
 * 127.0.0.1 (NameNode, DataNode, ResourceManager, NodeManager: four JVMs) and a Spark home with YARN support;
 * deploy/yarn/submit.sh submits the shaded jar as a user would. Real MNIST is copied into HDFS, and the warehouse is
 * {@code hdfs://}. The test prints its wall time, the YARN application ids and the memory the run needed.
 */
class YarnIT {
    private static final Path ROOT = S3Server.ROOT;
    private static final Pattern APPLICATION = Pattern.compile("application_\\d+_\\d+");
    /**
     * The run's arguments: those of ClusterIT (a global batch of 32, averaged every 50 batches) on the first 30,000
     * training images, 8 epochs: after the first, the run outlasts the 10 s YARN takes to declare a lost NodeManager
     * lost, with room to spare (measured 2026-12-04 on all 60,000: the application failed 9.7-10.5 s after the kill,
     * 2 epochs trained, epochs of about 11 s; with 5 epochs and 20 s, a CI run had finished all 5 first). Half the
     * images: the resumed YARN run wrote 1,876 batch files to HDFS at about 21 ms a file (40 s of its 143 s), and this
     * test was a fifth of the suite's time.
     */
    private static final int EPOCHS = 8;
    private static final List<String> TRAINING = List.of("--epochs", Integer.toString(EPOCHS), "--workers", "2",
            "--set", "train.batch-size=32", "--set", "train.averaging-frequency=50", "--set", "train.max-examples=30000");
    private static final Map<String, String> ENV = new HashMap<>();
    private static final List<String> APPLICATIONS = new ArrayList<>();
    /** Hadoop's configuration, data and logs, the Spark home: fresh for each run of the test. */
    @TempDir
    static Path dir;
    private static String hdfs;
    private static long started;

    private static Launched script(List<String> command, long timeoutSeconds) throws Exception {
        return Launched.command(command, ENV, timeoutSeconds);
    }

    private static Launched hadoop(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("deploy/local/hadoop.sh").toString()));
        command.addAll(List.of(args));
        return script(command, 600);
    }

    private static Launched submit(String deployMode, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("deploy/yarn/submit.sh").toString()));
        command.addAll(args);
        ENV.put("IMGTRAIN_DEPLOY_MODE", deployMode);
        Launched r = script(command, 1500);
        Matcher m = APPLICATION.matcher(r.output());
        if (m.find()) {
            APPLICATIONS.add(m.group() + " (" + deployMode + " mode, " + args.get(0) + ", exit " + r.code() + ")");
        }
        return r;
    }

    @BeforeAll
    static void startHadoop() throws Exception {
        started = System.nanoTime();
        ENV.put("IMGTRAIN_HADOOP_DIR", dir.toString());
        Launched start = hadoop("start");
        assertEquals(0, start.code(), start.output());
        for (String line : start.output().lines().toList()) {
            if (line.startsWith("export ")) {
                String[] kv = line.substring("export ".length()).split("=", 2);
                ENV.put(kv[0], kv[1]);
            } else if (line.startsWith("hdfs: ")) {
                hdfs = line.substring("hdfs: ".length());
            }
        }
        assertTrue(ENV.containsKey("HADOOP_CONF_DIR") && ENV.containsKey("SPARK_HOME"), start.output());
        assertTrue(hdfs != null && hdfs.matches("hdfs://127\\.0\\.0\\.1:\\d+"), start.output());
        // Idempotent: a second start finds it running and prints the same exports.
        Launched again = hadoop("start");
        assertEquals(0, again.code(), again.output());
        assertTrue(again.output().contains("export HADOOP_CONF_DIR=" + ENV.get("HADOOP_CONF_DIR")), again.output());
        // The shipped conf/spark-yarn.conf as it is: a 2 GB driver (+1 GB overhead) and two 2 GB executors (+2 GB each
        // for ND4J's off-heap arrays), 11 GB of the NodeManager's 12.
        ENV.remove("IMGTRAIN_SUBMIT_OPTS");
        Launched put = hadoop("put", LocalSpark.mnistDir().toString(), "/data/mnist");
        assertEquals(0, put.code(), put.output());
    }

    @AfterAll
    static void stopHadoop() throws Exception {
        try {
            System.out.println("YarnIT: the YARN applications: " + String.join(", ", APPLICATIONS));
            System.out.println("YarnIT: " + memory());
        } finally {
            Launched stop = hadoop("stop");
            System.out.println("YarnIT: " + stop.output().strip() + "; wall time "
                    + Math.round((System.nanoTime() - started) / 1e9) + " s");
        }
    }

    /**
     * A cluster-mode run on an HDFS warehouse whose only NodeManager is killed (SIGKILL) once the first checkpoint is on
     * HDFS (issue 27). Its containers are not its children and train on; the ResourceManager declares the node lost
     * after 10 s (hadoop.sh's {@code yarn.nm.liveness-monitor.expiry-interval-ms}) and fails the application; the driver,
     * refused by the ResourceManager, is interrupted and stops with its executors. submit.sh's last line says what YARN
     * said. After hadoop.sh start (a new NodeManager) the same submit.sh command resumes from the last checkpoint on
     * HDFS and ends with the accuracy of the same command on local[2]. Then: failures name the application, client
     * mode, runs list and imgtrain ui over the HDFS warehouse.
     */
    @Test
    void aClusterModeRunSurvivesALostNodeManagerEqualsTheLocalRunAndFailuresNameTheApplication(@TempDir Path tmp)
            throws Exception {
        String warehouse = hdfs + "/imgtrain";
        List<String> run = new ArrayList<>(List.of("run", "--source", hdfs + "/data/mnist", "--warehouse", warehouse,
                "--run-id", "yarn"));
        run.addAll(TRAINING);
        int trained = loseTheNodeManagerDuring(run, tmp.resolve("submit.log"));

        Launched yarn = submit("cluster", run);
        assertEquals(0, yarn.code(), yarn.output());
        Matcher app = APPLICATION.matcher(yarn.output());
        assertTrue(app.find(), yarn.output());
        assertTrue(yarn.output().contains("YARN application " + app.group() + ": SUCCEEDED, tracking URL http"), yarn.output());
        assertTrue(yarn.output().contains("yarn logs -applicationId " + app.group()), yarn.output());
        Matcher from = Pattern.compile("train yarn: resuming after epoch (\\d+)").matcher(driverLog(app.group()));
        assertTrue(from.find(), driverLog(app.group()));
        int after = Integer.parseInt(from.group(1));
        assertTrue(after >= 1 && after <= trained, from.group() + ", " + trained + " epochs in metrics before");
        assertEquals(java.util.stream.IntStream.rangeClosed(1, EPOCHS).boxed().toList(),
                epochs("/imgtrain/runs/yarn/metrics.jsonl"), "each epoch once");

        assertTrue(exists("/imgtrain/runs/yarn/_SUCCESS"), "the run committed on HDFS");
        JsonNode params = Warehouse.JSON.readTree(cat("/imgtrain/runs/yarn/params.json"));
        assertEquals("yarn", params.get("spark_master").asText(), params.toString());
        double onYarn = Warehouse.JSON.readTree(cat("/imgtrain/runs/yarn/evaluation.json"))
                .get("accuracy").asDouble();

        // The same run on local[2] (bin/imgtrain, the build's Spark) from the same archives, local warehouse.
        List<String> local = new ArrayList<>(List.of("run", "--source", LocalSpark.mnistDir().toString(),
                "--warehouse", tmp.resolve("wh").toString(), "--run-id", "local"));
        local.addAll(TRAINING);
        Launched here = Launched.run(local, Map.of());
        assertEquals(0, here.code(), here.output());
        double onLocal = Warehouse.JSON.readTree(tmp.resolve("wh/runs/local/evaluation.json").toFile()).get("accuracy").asDouble();
        System.out.printf("YarnIT: test accuracy after " + EPOCHS + " epochs %.4f on YARN (cluster mode, 2 executors; resumed after epoch "
                + "%d, the NodeManager lost after %d), %.4f on local[2]%n", onYarn, after, trained, onLocal);
        // Not bit for bit: YARN's executors and the launcher's JVM end a few test images apart (0.9834 against 0.9836
        // after 8 epochs, 2026-12-04; an uninterrupted YARN run departs in epoch 1 already, while the standalone
        // cluster gives the local figures), though a resumed local run equals an uninterrupted one exactly (ResumeIT,
        // which checks the resume itself); the cause is not found yet (docs/operations.md). Here: within 20 of the
        // 10,000 test images.
        assertEquals(onLocal, onYarn, 0.002, "YARN (resumed) and local[2], same seed");

        // runs list reads the HDFS warehouse (from this JVM's launcher, Hadoop's client over hdfs://).
        Launched listed = Launched.run(List.of("runs", "list", "--warehouse", warehouse), Map.of());
        assertEquals(0, listed.code(), listed.output());
        assertTrue(listed.output().lines().anyMatch(l -> l.startsWith("yarn ") && l.contains(String.format("%.4f", onYarn))),
                listed.output());

        // imgtrain ui over the HDFS warehouse: the YARN run's pages, its report and the dataset, crawled in Chromium.
        try (UiCrawl.Ui ui = UiCrawl.Ui.start(List.of("--warehouse", warehouse), Map.of());
             dev.imgtrain.testing.HeadlessChromium chromium = dev.imgtrain.testing.HeadlessChromium.start()) {
            UiCrawl.Crawl crawl = UiCrawl.crawl(ui.address(), chromium, null);
            for (String page : List.of("runs/yarn", "runs/yarn/report/index.html", "datasets/mnist", "compare")) {
                assertTrue(page.equals("compare") || crawl.bodies().containsKey(ui.address() + page),
                        page + " not reached: " + crawl.bodies().keySet());
            }
            assertEquals(0, ui.stop(), "imgtrain ui on hdfs:// ends with 0 on SIGTERM");
        }

        // A source that is not on HDFS: the driver's one line, naming the path and the application, is the last line.
        String missing = hdfs + "/data/no-such-mnist";
        Launched failed = submit("cluster", List.of("run", "--source", missing, "--warehouse", warehouse, "--run-id", "missing"));
        assertEquals(1, failed.code(), failed.output());
        Matcher failedApp = APPLICATION.matcher(failed.output());
        assertTrue(failedApp.find(), failed.output());
        assertNotEquals(app.group(), failedApp.group());
        String line = failed.lastLine();
        assertTrue(line.startsWith("imgtrain run: invalid input: " + missing + ": no such file or directory")
                && line.endsWith("(YARN application " + failedApp.group() + ")"), failed.output());
        assertEquals(1, failed.output().lines().filter(l -> l.startsWith("imgtrain run: ")).count(), failed.output());
        assertFalse(failed.output().contains("appattempt_" + failedApp.group().substring("application_".length()) + "_000002"),
                "one attempt (spark.yarn.maxAppAttempts 1): " + failed.output());
        assertFalse(exists("/imgtrain/runs/missing"), "nothing written for it");

        // Client mode: the driver here, the executors in YARN containers; it evaluates the committed run from HDFS.
        Launched evaluated = submit("client", List.of("evaluate", "--run", "yarn", "--warehouse", warehouse));
        assertEquals(0, evaluated.code(), evaluated.output());
        assertTrue(evaluated.output().contains(String.format("accuracy %.4f", onYarn)), evaluated.output());
        Matcher evaluatedApp = APPLICATION.matcher(evaluated.output());
        assertTrue(evaluatedApp.find(), evaluated.output());
        assertTrue(evaluated.output().contains("YARN application " + evaluatedApp.group() + ", tracking URL http"),
                evaluated.output());
        // ...and a client-mode failure: the line comes from the driver here, with the application id.
        Launched clientFailed = submit("client", List.of("evaluate", "--run", "no-such-run", "--warehouse", warehouse));
        assertEquals(1, clientFailed.code(), clientFailed.output());
        Matcher clientApp = APPLICATION.matcher(clientFailed.output());
        assertTrue(clientApp.find(), clientFailed.output());
        assertTrue(clientFailed.output().lines().anyMatch(l -> l.startsWith("imgtrain evaluate: ")
                && l.contains("no-such-run") && l.endsWith("(YARN application " + clientApp.group() + ")")), clientFailed.output());
    }

    /**
     * Issue 27: containers YARN cannot give. Sizes no node can hold: submit.sh's check with the ResourceManager says so
     * in one line before anything is submitted. Executors that each fit a node but not beside the driver (the check
     * skipped, as when the cluster filled up after it): the driver waits cluster.executor-wait for its first executor,
     * then fails with one line naming what it asked for, the application id after it. Both well within 3 minutes.
     */
    @Test
    void containersYarnCannotGiveFailInOneLineWithinMinutes() throws Exception {
        String warehouse = hdfs + "/imgtrain-sizes";
        try {
            ENV.put("IMGTRAIN_SUBMIT_OPTS", "--conf spark.executor.memory=16g");
            long start = System.nanoTime();
            Launched tooLarge = submit("cluster", List.of("ingest", "--source", hdfs + "/data/mnist", "--warehouse", warehouse));
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("YarnIT: 16g executors refused by the check in %.1f s%n", seconds);
            assertEquals(1, tooLarge.code(), tooLarge.output());
            assertTrue(tooLarge.lastLine().matches("imgtrain ingest: failed: YARN has \\d+ MB free on its largest node; "
                    + "each executor asks 18432 MB \\(spark.executor.memory 16g \\+ memoryOverhead 2g\\); lower them with "
                    + "IMGTRAIN_SUBMIT_OPTS or add NodeManagers"), tooLarge.output());
            assertFalse(APPLICATION.matcher(tooLarge.output()).find(), "nothing submitted: " + tooLarge.output());
            assertTrue(seconds < 180, seconds + " s");

            // Spark's own wait for registered executors (30 s by default) shortened: the test times imgtrain's.
            ENV.put("IMGTRAIN_SUBMIT_OPTS", "--conf spark.executor.memory=8g "
                    + "--conf spark.scheduler.maxRegisteredResourcesWaitingTime=5s");
            ENV.put("IMGTRAIN_YARN_PREFLIGHT", "0");
            start = System.nanoTime();
            Launched pending = submit("cluster", List.of("ingest", "--source", hdfs + "/data/mnist", "--warehouse", warehouse,
                    "--set", "cluster.executor-wait=20s"));
            seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("YarnIT: executors that never came: the driver gave up %.1f s after submission%n", seconds);
            assertEquals(1, pending.code(), pending.output());
            Matcher app = APPLICATION.matcher(pending.output());
            assertTrue(app.find(), pending.output());
            assertTrue(pending.lastLine().startsWith("imgtrain ingest: failed: no executor registered within 20 s: YARN gave "
                    + "none of the 2 executor(s) of spark.executor.memory 8g + memoryOverhead 2g and 1 core(s) each asked for; "
                    + "lower them with IMGTRAIN_SUBMIT_OPTS or add NodeManagers (cluster.executor-wait sets how long to wait)")
                    && pending.lastLine().endsWith("(YARN application " + app.group() + ")"), pending.output());
            assertTrue(seconds < 180, seconds + " s");
            assertFalse(exists("/imgtrain-sizes/datasets"), "nothing written");
        } finally {
            ENV.remove("IMGTRAIN_SUBMIT_OPTS");
            ENV.remove("IMGTRAIN_YARN_PREFLIGHT");
        }
    }

    /**
     * Issue 27: a warehouse under an HDFS space quota too small for it (3 MB: HDFS counts a whole 128 MB block for a file
     * being written). Ingest fails in one line naming the quota, with nothing committed.
     */
    @Test
    void anHdfsSpaceQuotaFailsInOneLine() throws Exception {
        org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path("/imgtrain-quota");
        try (org.apache.hadoop.hdfs.DistributedFileSystem fs = (org.apache.hadoop.hdfs.DistributedFileSystem) hdfsClient()) {
            assertTrue(fs.mkdirs(dir));
            fs.setQuota(dir, Long.MAX_VALUE, 3L << 20); // Long.MAX_VALUE: the name quota left as it is
        }
        Launched full = Launched.run(List.of("ingest", "--source", hdfs + "/data/mnist", "--warehouse", hdfs + dir), Map.of());
        String line = full.output().lines().filter(l -> l.startsWith("imgtrain ingest: ")).findFirst().orElse("");
        System.out.println("YarnIT: ingest under a 3 MB HDFS quota: " + line);
        assertEquals(1, full.code(), full.output());
        assertTrue(line.matches("imgtrain ingest: failed: the HDFS space quota of /imgtrain-quota is exceeded \\(quota 3 MB, "
                + "the writes need \\d+ MB: HDFS counts a whole block per file being written\\) while writing the raw table of mnist "
                + "to " + hdfs + "/imgtrain-quota/\\S+; nothing was "
                + "committed; raise the quota \\(hdfs dfsadmin -setSpaceQuota\\) or choose another --warehouse, then run the "
                + "same command again"), full.output());
        assertFalse(exists("/imgtrain-quota/datasets/mnist/_SUCCESS"), "nothing committed");
    }

    /**
     * Issue 27: Hadoop's daemons lost during training on an hdfs:// warehouse. The only DataNode killed (SIGKILL) after
     * epoch 1: the run fails with one line naming HDFS, the file and the DataNode, nothing committed. After
     * deploy/local/hadoop.sh start (which starts the daemons that are not running) the same command resumes after epoch
     * 1; the NameNode killed after its epoch 2: one line naming the NameNode. Started again, the same command resumes
     * after epoch 2 and ends with the accuracy of an undisturbed run of the same command.
     */
    @Test
    void lostHadoopDaemonsFailInOneLineAndTheSameCommandResumes() throws Exception {
        String warehouse = hdfs + "/imgtrain-dn";
        List<String> args = new ArrayList<>(List.of("run", "--source", hdfs + "/data/mnist", "--warehouse", warehouse,
                "--run-id", "dn", "--epochs", "3", "--set", "train.max-examples=10000"));
        String again = "; nothing was committed; once ";
        // The HDFS client's back-off between tries of a block (3 s windows: about a minute in all) shortened: the test
        // times imgtrain's handling, not HDFS's patience.
        Map<String, String> env = Map.of("IMGTRAIN_JAVA_OPTS", "-Dspark.hadoop.dfs.client.retry.window.base=200");

        String dataNodeLost = killDuring(args, env, "epoch 1/3:", "datanode");
        assertTrue(dataNodeLost.matches("imgtrain run: failed: HDFS cannot (read|write) /imgtrain-dn/\\S+: no (live DataNode "
                + "holds|DataNode took) its block \\(.*\\); nothing was committed; once HDFS has its DataNodes back \\(hdfs "
                + "dfsadmin -report lists them; deploy/local/hadoop.sh start restarts a loopback one\\), run the same command "
                + "again"), dataNodeLost);
        assertFalse(exists("/imgtrain-dn/runs/dn/_SUCCESS"), "nothing committed");

        String nameNodeLost = killDuring(args, env, "epoch 2/3:", "namenode");
        assertTrue(nameNodeLost.startsWith("imgtrain run: failed: the HDFS NameNode at ") && nameNodeLost.contains(again),
                nameNodeLost);
        assertFalse(exists("/imgtrain-dn/runs/dn/_SUCCESS"), "nothing committed");

        Launched resumed = Launched.run(args, env);
        assertEquals(0, resumed.code(), resumed.output());
        assertTrue(resumed.output().contains("train dn: resuming after epoch 2"), resumed.output());
        assertEquals(List.of(1, 2, 3), epochs("/imgtrain-dn/runs/dn/metrics.jsonl"));
        double accuracy = Warehouse.JSON.readTree(cat("/imgtrain-dn/runs/dn/evaluation.json"))
                .get("accuracy").asDouble();
        // The same command under another run id, on the same warehouse and tables.
        List<String> other = new ArrayList<>(args);
        other.set(other.indexOf("dn"), "dn-undisturbed");
        Launched undisturbed = Launched.run(other, env);
        assertEquals(0, undisturbed.code(), undisturbed.output());
        double expected = Warehouse.JSON.readTree(cat("/imgtrain-dn/runs/dn-undisturbed/evaluation.json"))
                .get("accuracy").asDouble();
        System.out.printf("YarnIT: test accuracy %.4f resumed after a lost DataNode and a lost NameNode, %.4f undisturbed%n",
                accuracy, expected);
        assertEquals(expected, accuracy, "the resumed run equals an undisturbed one");
    }

    /**
     * Submits {@code args} in cluster mode, kills the NodeManager (SIGKILL) once the run's first checkpoint is on HDFS,
     * checks how the application ends (submit.sh's line, the driver's, its containers gone, nothing committed), starts
     * the NodeManager again and returns the epochs the run had recorded.
     */
    private static int loseTheNodeManagerDuring(List<String> args, Path log) throws Exception {
        String runId = args.get(args.indexOf("--run-id") + 1);
        String runDir = java.net.URI.create(args.get(args.indexOf("--warehouse") + 1)).getPath() + "/runs/" + runId;
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("deploy/yarn/submit.sh").toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(ENV);
        pb.environment().put("IMGTRAIN_DEPLOY_MODE", "cluster");
        Process p = pb.start();
        long killedAt = 0;
        Throwable failure = null;
        try {
            try (org.apache.hadoop.fs.FileSystem fs = hdfsClient()) {
                org.apache.hadoop.fs.Path first = new org.apache.hadoop.fs.Path(runDir + "/checkpoints/epoch-1.zip");
                long deadline = System.nanoTime() + 600_000_000_000L;
                while (p.isAlive() && !fs.exists(first) && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                assertTrue(p.isAlive(), "the run ended before its first checkpoint was seen: " + Files.readString(log));
                killedAt = kill("nodemanager");
                assertTrue(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS), "submit.sh did not end");
            } finally {
                p.destroyForcibly();
            }
            return afterTheLoss(p, log, runDir, (System.nanoTime() - killedAt) / 1e9);
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            // A NodeManager again (after the lost node's logs were read), whatever was asserted: later tests need one.
            startAgain(failure);
        }
    }

    /**
     * hadoop.sh start after a test killed a daemon. When it fails, that is the test's failure unless the test failed
     * already: then it is added to that failure (suppressed) instead of replacing it.
     */
    private static void startAgain(Throwable failure) throws Exception {
        Launched restarted = hadoop("start");
        if (restarted.code() != 0) {
            AssertionError notStarted = new AssertionError("hadoop.sh start after the kill: exit " + restarted.code()
                    + ": " + restarted.output());
            if (failure == null) {
                throw notStarted;
            }
            failure.addSuppressed(notStarted);
        }
    }

    /** What the run killed by loseTheNodeManagerDuring left: its last line, its containers, HDFS; the epochs it trained. */
    private static int afterTheLoss(Process p, Path log, String runDir, double seconds) throws Exception {
        Launched killed = new Launched(p.exitValue(), Files.readString(log));
        Matcher app = APPLICATION.matcher(killed.output());
        assertTrue(app.find(), killed.output());
        APPLICATIONS.add(app.group() + " (cluster mode, run, NodeManager killed, exit " + killed.code() + ")");
        System.out.printf("YarnIT: NodeManager killed after the first checkpoint: submit.sh exited %d %.1f s later with: %s%n",
                killed.code(), seconds, killed.lastLine());
        assertEquals(1, killed.code(), killed.output());
        assertEquals("imgtrain run: failed: YARN ended the application before the command did: the driver's container "
                + "exited with code -100: Container released on a *lost* node; run the same command again once the cluster "
                + "is whole (a training run resumes after its last checkpoint) (YARN application " + app.group() + ")",
                killed.lastLine(), killed.output());
        // The lost node's containers (the driver, the executors) end by themselves once YARN has failed the application.
        String id = app.group();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (ProcessHandle.allProcesses().anyMatch(h -> h.info().commandLine().orElse("").contains(id))
                && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
        assertFalse(ProcessHandle.allProcesses().anyMatch(h -> h.info().commandLine().orElse("").contains(id)),
                "a container of " + id + " is still running");
        String driverLog = driverLog(id);
        assertTrue(driverLog.contains("imgtrain run: failed: interrupted before it ended"), driverLog);
        assertFalse(exists(runDir + "/_SUCCESS"), "nothing committed");
        int trained = epochs(runDir + "/metrics.jsonl").size();
        assertTrue(trained >= 1 && trained < EPOCHS, trained + " epochs before the application ended");
        return trained;
    }

    /** Kills one of hadoop.sh's daemons (SIGKILL), waits for it to be gone, and returns System.nanoTime() then. */
    private static long kill(String daemon) throws Exception {
        long pid = Long.parseLong(Files.readString(dir.resolve(daemon + ".pid")).strip());
        ProcessHandle handle = ProcessHandle.of(pid).orElseThrow();
        assertTrue(handle.destroyForcibly(), daemon + " " + pid);
        handle.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        return System.nanoTime();
    }

    /** A client of the test's HDFS of its own (closing it closes no one else's), in this JVM: no FsShell JVM per question. */
    private static org.apache.hadoop.fs.FileSystem hdfsClient() throws Exception {
        return org.apache.hadoop.fs.FileSystem.newInstance(java.net.URI.create(hdfs), new org.apache.hadoop.conf.Configuration());
    }

    /** Whether {@code path} exists on the test's HDFS. */
    private static boolean exists(String path) throws Exception {
        try (org.apache.hadoop.fs.FileSystem fs = hdfsClient()) {
            return fs.exists(new org.apache.hadoop.fs.Path(path));
        }
    }

    /** The text of the file {@code path} on the test's HDFS. */
    private static String cat(String path) throws Exception {
        try (org.apache.hadoop.fs.FileSystem fs = hdfsClient();
             java.io.InputStream in = fs.open(new org.apache.hadoop.fs.Path(path))) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** The epochs in a run's metrics.jsonl on HDFS, in order. */
    private static List<Integer> epochs(String metrics) throws Exception {
        return cat(metrics).lines().filter(l -> l.startsWith("{"))
                .map(l -> dev.imgtrain.train.EpochMetrics.parse(l).epoch()).toList();
    }

    /** The cluster-mode driver's stderr (the application's first container), from the NodeManager's log directory. */
    private static String driverLog(String application) throws Exception {
        Path containers = dir.resolve("nm-logs").resolve(application);
        try (var found = Files.list(containers)) {
            Path first = found.filter(c -> c.getFileName().toString().endsWith("_000001")).findFirst().orElseThrow();
            return Files.readString(first.resolve("stderr"));
        }
    }

    /**
     * Runs {@code args} through the launcher, kills {@code daemon} (SIGKILL) when a line containing {@code after}
     * appears, waits for the run to end (it must fail), starts the missing daemon again, and returns the failure line.
     */
    private static String killDuring(List<String> args, Map<String, String> env, String after, String daemon)
            throws Exception {
        Process p = Launched.start(args, env);
        StringBuilder out = new StringBuilder();
        long killedAt = 0;
        double seconds;
        Throwable failure = null;
        try {
            try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) {
                    out.append(line).append('\n');
                    if (line.contains(after) && killedAt == 0) {
                        killedAt = kill(daemon);
                    }
                }
            }
            assertTrue(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS), "the run did not end: " + out);
            seconds = (System.nanoTime() - killedAt) / 1e9;
        } catch (Throwable t) {
            failure = t;
            p.destroyForcibly();
            throw t;
        } finally {
            startAgain(failure);
        }
        assertTrue(killedAt > 0, out.toString());
        String failed = out.toString().lines().filter(l -> l.startsWith("imgtrain run: failed: ")).findFirst().orElse("");
        System.out.printf("YarnIT: %s killed after '%s': the run exited %d %.1f s later with: %s%n", daemon, after,
                p.exitValue(), seconds, failed);
        assertEquals(1, p.exitValue(), out.toString());
        return failed;
    }

    /** The peak physical memory of each container (the NodeManager's monitor) and of each daemon (VmHWM). */
    private static String memory() throws Exception {
        TreeMap<String, Double> peaks = new TreeMap<>();
        Path log = dir.resolve("logs/nodemanager.log");
        Pattern usage = Pattern.compile("for container-id (container_\\S+): ([0-9.]+) ([KMG]B) of ([0-9.]+ [KMG]B) physical");
        if (Files.exists(log)) {
            for (String l : Files.readAllLines(log)) {
                Matcher m = usage.matcher(l);
                if (m.find()) {
                    double mb = Double.parseDouble(m.group(2)) * switch (m.group(3)) {
                        case "GB" -> 1024;
                        case "KB" -> 1.0 / 1024;
                        default -> 1;
                    };
                    peaks.merge(m.group(1) + " (limit " + m.group(4) + ")", mb, Math::max);
                }
            }
        }
        StringBuilder s = new StringBuilder("peak physical memory per container:");
        peaks.forEach((c, mb) -> s.append(String.format(" %s %.0f MB;", c, mb)));
        s.append(" daemons (VmHWM):");
        for (String d : List.of("namenode", "datanode", "resourcemanager", "nodemanager")) {
            Path pid = dir.resolve(d + ".pid");
            if (Files.exists(pid)) {
                Path status = Path.of("/proc/" + Files.readString(pid).strip() + "/status");
                if (Files.exists(status)) {
                    Files.readAllLines(status).stream().filter(l -> l.startsWith("VmHWM:"))
                            .forEach(l -> s.append(' ').append(d).append(' ').append(l.substring(6).strip()).append(';'));
                }
            }
        }
        return s.toString();
    }
}
