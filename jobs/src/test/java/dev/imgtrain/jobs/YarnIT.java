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
    /** The run's arguments: those of ClusterIT (a global batch of 64, averaged every 50 batches), 2 epochs. */
    private static final List<String> TRAINING = List.of("--epochs", "2", "--workers", "2",
            "--set", "train.batch-size=32", "--set", "train.averaging-frequency=50");
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

    @Test
    void aRunSubmittedInClusterModeOnHdfsEqualsTheLocalRunAndFailuresNameTheApplication(@TempDir Path tmp) throws Exception {
        String warehouse = hdfs + "/imgtrain";
        List<String> run = new ArrayList<>(List.of("run", "--source", hdfs + "/data/mnist", "--warehouse", warehouse,
                "--run-id", "yarn"));
        run.addAll(TRAINING);
        Launched yarn = submit("cluster", run);
        assertEquals(0, yarn.code(), yarn.output());
        Matcher app = APPLICATION.matcher(yarn.output());
        assertTrue(app.find(), yarn.output());
        assertTrue(yarn.output().contains("YARN application " + app.group() + ": SUCCEEDED, tracking URL http"), yarn.output());
        assertTrue(yarn.output().contains("yarn logs -applicationId " + app.group()), yarn.output());

        assertEquals(0, hadoop("fs", "-test", "-e", "/imgtrain/runs/yarn/_SUCCESS").code(), "the run committed on HDFS");
        JsonNode params = Warehouse.JSON.readTree(hadoop("fs", "-cat", "/imgtrain/runs/yarn/params.json").output());
        assertEquals("yarn", params.get("spark_master").asText(), params.toString());
        double onYarn = Warehouse.JSON.readTree(hadoop("fs", "-cat", "/imgtrain/runs/yarn/evaluation.json").output())
                .get("accuracy").asDouble();

        // The same run on local[2] (bin/imgtrain, the build's Spark) from the same archives, local warehouse.
        List<String> local = new ArrayList<>(List.of("run", "--source", LocalSpark.mnistDir().toString(),
                "--warehouse", tmp.resolve("wh").toString(), "--run-id", "local"));
        local.addAll(TRAINING);
        Launched here = Launched.run(local, Map.of());
        assertEquals(0, here.code(), here.output());
        double onLocal = Warehouse.JSON.readTree(tmp.resolve("wh/runs/local/evaluation.json").toFile()).get("accuracy").asDouble();
        System.out.printf("YarnIT: test accuracy after 2 epochs %.4f on YARN (cluster mode, 2 executors), %.4f on local[2]%n",
                onYarn, onLocal);
        assertEquals(String.format("%.3f", onLocal), String.format("%.3f", onYarn), "YARN and local[2], same seed");

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
        assertEquals(1, hadoop("fs", "-test", "-e", "/imgtrain/runs/missing").code(), "nothing written for it");

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
            assertEquals(1, hadoop("fs", "-test", "-e", "/imgtrain-sizes/datasets").code(), "nothing written");
        } finally {
            ENV.remove("IMGTRAIN_SUBMIT_OPTS");
            ENV.remove("IMGTRAIN_YARN_PREFLIGHT");
        }
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
        assertEquals(1, hadoop("fs", "-test", "-e", "/imgtrain-dn/runs/dn/_SUCCESS").code(), "nothing committed");

        String nameNodeLost = killDuring(args, env, "epoch 2/3:", "namenode");
        assertTrue(nameNodeLost.startsWith("imgtrain run: failed: the HDFS NameNode at ") && nameNodeLost.contains(again),
                nameNodeLost);
        assertEquals(1, hadoop("fs", "-test", "-e", "/imgtrain-dn/runs/dn/_SUCCESS").code(), "nothing committed");

        Launched resumed = Launched.run(args, env);
        assertEquals(0, resumed.code(), resumed.output());
        assertTrue(resumed.output().contains("train dn: resuming after epoch 2"), resumed.output());
        List<Integer> epochs = hadoop("fs", "-cat", "/imgtrain-dn/runs/dn/metrics.jsonl").output().lines()
                .filter(l -> l.startsWith("{")).map(l -> dev.imgtrain.train.EpochMetrics.parse(l).epoch()).toList();
        assertEquals(List.of(1, 2, 3), epochs);
        double accuracy = Warehouse.JSON.readTree(hadoop("fs", "-cat", "/imgtrain-dn/runs/dn/evaluation.json").output())
                .get("accuracy").asDouble();
        // The same command under another run id, on the same warehouse and tables.
        List<String> other = new ArrayList<>(args);
        other.set(other.indexOf("dn"), "dn-undisturbed");
        Launched undisturbed = Launched.run(other, env);
        assertEquals(0, undisturbed.code(), undisturbed.output());
        double expected = Warehouse.JSON.readTree(hadoop("fs", "-cat", "/imgtrain-dn/runs/dn-undisturbed/evaluation.json")
                .output()).get("accuracy").asDouble();
        System.out.printf("YarnIT: test accuracy %.4f resumed after a lost DataNode and a lost NameNode, %.4f undisturbed%n",
                accuracy, expected);
        assertEquals(expected, accuracy, "the resumed run equals an undisturbed one");
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
        try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                out.append(line).append('\n');
                if (line.contains(after) && killedAt == 0) {
                    long pid = Long.parseLong(Files.readString(dir.resolve(daemon + ".pid")).strip());
                    ProcessHandle handle = ProcessHandle.of(pid).orElseThrow();
                    assertTrue(handle.destroyForcibly(), daemon + " " + pid);
                    handle.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
                    killedAt = System.nanoTime();
                }
            }
        } finally {
            assertTrue(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS));
            seconds = (System.nanoTime() - killedAt) / 1e9;
            Launched restarted = hadoop("start");
            assertEquals(0, restarted.code(), restarted.output());
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
