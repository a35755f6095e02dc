package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import dev.imgtrain.train.MiniBatches;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * s3a:// as the warehouse, against the real S3 server (S3Proxy, its own process on loopback, checking SigV4
 * signatures) with credentials from the AWS_* environment variables: the whole pipeline, the model read back from
 * the bucket, bad credentials and a missing bucket through the real launcher, and a run killed mid-training.
 */
class ObjectStorageIT {
    private static final String SECRET = System.getenv("AWS_SECRET_ACCESS_KEY");
    private static final String WAREHOUSE = "s3a://imgtrain-it/wh";
    private static S3Server s3;
    private static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        assertTrue(SECRET != null && SECRET.length() > 8, "failsafe sets AWS_SECRET_ACCESS_KEY for this test");
        s3 = S3Server.start("imgtrain-it");
        spark = LocalSpark.start("object-storage");
        List<String> args = s3.command("run", "--source", LocalSpark.mnistDir().toString(),
                "--warehouse", WAREHOUSE, "--epochs", "1", "--workers", "2", "--run-id", "s3run",
                "--set", "train.max-examples=5000");
        String[] result = CliParsingTest.execute(args.toArray(String[]::new));
        assertEquals("0", result[0], result[1]);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (spark != null) {
                spark.stop();
            }
        } finally {
            if (s3 != null) {
                s3.close();
            }
        }
    }

    private static FileSystem bucket() throws Exception {
        return FileSystem.newInstance(URI.create(WAREHOUSE), s3.hadoop());
    }

    private static Map<String, Long> objects(FileSystem fs, String under) throws Exception {
        Map<String, Long> found = new TreeMap<>();
        Path root = new Path(WAREHOUSE + "/" + under);
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            found.put(f.getPath().toString().substring(root.toString().length() + 1), f.getLen());
        }
        return found;
    }

    @Test
    void runWritesEveryObjectAndTheModelFromTheBucketGivesTheStoredAccuracy(@TempDir java.nio.file.Path tmp) throws Exception {
        try (FileSystem fs = bucket()) {
            Map<String, Long> run = objects(fs, "runs/s3run");
            for (String name : List.of("params.json", "metrics.jsonl", "checkpoints/epoch-1.zip", "model.zip",
                    "evaluation.json", "_SUCCESS")) {
                assertTrue(run.containsKey(name), name + " in " + run.keySet());
            }
            Map<String, Long> dataset = objects(fs, "datasets/mnist");
            assertTrue(dataset.containsKey("_dataset.json"), dataset.keySet().toString());
            assertTrue(dataset.keySet().stream().anyMatch(k -> k.startsWith("raw/part-")), dataset.keySet().toString());
            assertTrue(dataset.keySet().stream().anyMatch(k -> k.startsWith("features/part-")), dataset.keySet().toString());
            // Spark's Parquet output went through S3A's magic committer: its _SUCCESS is the committer's JSON summary.
            JsonNode success = Warehouse.JSON.readTree(fs.open(new Path(WAREHOUSE + "/datasets/mnist/features/_SUCCESS")));
            assertEquals("magic", success.get("committer").asText(), success.toString());

            java.nio.file.Path model = tmp.resolve("model.zip");
            fs.copyToLocalFile(new Path(WAREHOUSE + "/runs/s3run/model.zip"), new Path(model.toUri()));
            MultiLayerNetwork reloaded = ModelSerializer.restoreMultiLayerNetwork(model.toFile(), false);
            JsonNode evaluation = Warehouse.JSON.readTree(fs.open(new Path(WAREHOUSE + "/runs/s3run/evaluation.json")));
            List<MiniBatches.Example> test = MiniBatches.exampleRdd(spark.read().parquet(WAREHOUSE + "/datasets/mnist/features")
                    .where(col("split").equalTo("test"))).collect();
            assertEquals(10_000, test.size());
            Evaluation local = new Evaluation(10);
            Iterator<DataSet> batches = MiniBatches.batches(test.iterator(), 1000);
            while (batches.hasNext()) {
                DataSet batch = batches.next();
                local.eval(batch.getLabels(), reloaded.output(batch.getFeatures(), false));
            }
            assertEquals(evaluation.get("accuracy").asDouble(), local.accuracy(), 0.0,
                    "model.zip from the bucket gives exactly the stored accuracy");

            for (String name : List.of("params.json", "metrics.jsonl", "evaluation.json", "report/index.html")) {
                String text = new String(fs.open(new Path(WAREHOUSE + "/runs/s3run/" + name)).readAllBytes(), StandardCharsets.UTF_8);
                assertFalse(text.contains(SECRET), name + " holds the secret key");
            }

            // The report went through S3A like everything else; copied down, it opens as it does from a local warehouse.
            for (String name : ReportChecks.FILES) {
                assertTrue(run.containsKey("report/" + name), "report/" + name + " in " + run.keySet());
            }
            fs.copyToLocalFile(new Path(WAREHOUSE + "/runs/s3run/report"), new Path(tmp.resolve("report").toUri()));
            ReportChecks.assertOpens(tmp.resolve("report/index.html"), "s3run", evaluation.get("accuracy").asDouble(), "mnist-s3a");
        }
    }

    @Test
    void aFailedIngestLeavesTheCommittedDatasetAsItWas(@TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path bad = dev.imgtrain.testing.IdxFixtures.writeValidMnist(tmp.resolve("bad"), 30, 10);
        byte[] labels = dev.imgtrain.testing.IdxFixtures.labels(2049, 30, 30);
        labels[8 + 5] = 11;
        dev.imgtrain.testing.IdxFixtures.write(bad, dev.imgtrain.testing.IdxFixtures.TRAIN_LABELS, labels);
        try (FileSystem fs = bucket()) {
            byte[] manifest = fs.open(new Path(WAREHOUSE + "/datasets/mnist/_dataset.json")).readAllBytes();
            Map<String, Long> raw = objects(fs, "datasets/mnist/raw");
            List<String> args = s3.command("ingest", "--source", bad.toString(), "--warehouse", WAREHOUSE);
            String[] result = CliParsingTest.execute(args.toArray(String[]::new));
            assertEquals("1", result[0], result[1]);
            assertTrue(result[1].startsWith("imgtrain ingest: invalid input: train-labels-idx1-ubyte.gz: label 11 at index 5"), result[1]);
            assertEquals(new String(manifest, StandardCharsets.UTF_8),
                    new String(fs.open(new Path(WAREHOUSE + "/datasets/mnist/_dataset.json")).readAllBytes(), StandardCharsets.UTF_8));
            assertEquals(raw, objects(fs, "datasets/mnist/raw"));
        }
    }

    @Test
    void runsListShowsTheCommittedRunWithItsAccuracy() throws Exception {
        List<String> args = s3.command("runs", "list", "--json", "--warehouse", WAREHOUSE);
        Launched list = Launched.run(args, Map.of());
        assertEquals(0, list.code(), list.output());
        JsonNode runs = Warehouse.JSON.readTree(list.output().substring(list.output().indexOf('[')));
        JsonNode s3run = null;
        for (JsonNode run : runs) { // other tests of this class commit runs too
            if (run.get("run_id").asText().equals("s3run")) {
                s3run = run;
            }
        }
        assertTrue(s3run != null, runs.toString());
        try (FileSystem fs = bucket()) {
            JsonNode evaluation = Warehouse.JSON.readTree(fs.open(new Path(WAREHOUSE + "/runs/s3run/evaluation.json")));
            assertEquals(evaluation.get("accuracy").asDouble(), s3run.get("accuracy").asDouble(), 0.0);
        }
    }

    @Test
    void wrongSecretKeyFailsFastSayingSoAndNeverPrintsTheSecret() throws Exception {
        String wrong = "wrong-" + SECRET.hashCode() + "-key";
        List<String> args = s3.command("train", "--warehouse", WAREHOUSE, "--epochs", "1");
        Launched l = Launched.run(args, Map.of("AWS_SECRET_ACCESS_KEY", wrong));
        assertEquals(1, l.code(), l.output());
        assertTrue(l.output().contains("imgtrain train: failed: " + WAREHOUSE + ": the S3 server rejected the credentials: "
                + "the secret key does not match the access key id (SignatureDoesNotMatch)"), l.output());
        assertFalse(l.output().contains(wrong), "the wrong secret is printed");
        assertFalse(l.output().contains(SECRET), "the real secret is printed");
        assertFalse(l.output().contains("\tat "), "no stack trace");
    }

    @Test
    void unknownAccessKeyAndMissingBucketAreToldApart() throws Exception {
        List<String> args = s3.command("preprocess", "--warehouse", WAREHOUSE);
        Launched badKey = Launched.run(args, Map.of("AWS_ACCESS_KEY_ID", "nobody"));
        assertEquals(1, badKey.code(), badKey.output());
        assertTrue(badKey.output().contains("it does not know the access key id (InvalidAccessKeyId)"), badKey.output());

        List<String> bucketArgs = s3.command("preprocess", "--warehouse", "s3a://no-such-bucket/wh");
        Launched noBucket = Launched.run(bucketArgs, Map.of());
        assertEquals(1, noBucket.code(), noBucket.output());
        assertTrue(noBucket.output().contains("imgtrain preprocess: failed: s3a://no-such-bucket/wh: bucket 'no-such-bucket' "
                + "does not exist at " + s3.endpoint() + " (NoSuchBucket)"), noBucket.output());
        assertFalse(badKey.output().contains(SECRET) || noBucket.output().contains(SECRET));
    }

    @Test
    void aRunKilledMidTrainingHasNoSuccessAndIsNotListed() throws Exception {
        List<String> args = s3.command("train", "--warehouse", WAREHOUSE, "--epochs", "30",
                "--run-id", "killed", "--set", "train.max-examples=5000");
        Process p = Launched.start(args, Map.of());
        boolean sawEpoch = false;
        StringBuilder seen = new StringBuilder();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                seen.append(line).append('\n');
                if (line.contains("epoch 1/30")) {
                    sawEpoch = true;
                    break;
                }
            }
            p.destroyForcibly(); // SIGKILL: no shutdown hooks, no clean-up
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        }
        assertTrue(sawEpoch, seen.toString());
        assertNotEquals(0, p.exitValue());
        try (FileSystem fs = bucket()) {
            Map<String, Long> killed = objects(fs, "runs/killed");
            assertTrue(killed.containsKey("params.json") && killed.containsKey("metrics.jsonl"), killed.keySet().toString());
            assertFalse(killed.containsKey("_SUCCESS"), killed.keySet().toString());
            assertFalse(killed.containsKey("model.zip"), killed.keySet().toString());
        }
        List<String> listArgs = s3.command("runs", "list", "--warehouse", WAREHOUSE);
        Launched list = Launched.run(listArgs, Map.of());
        assertEquals(0, list.code(), list.output());
        assertTrue(list.output().contains("s3run"), list.output());
        assertFalse(list.output().contains("killed"), list.output());
        List<String> showArgs = s3.command("runs", "show", "killed", "--warehouse", WAREHOUSE);
        Launched show = Launched.run(showArgs, Map.of());
        assertEquals(1, show.code(), show.output());
        assertTrue(show.output().contains("run 'killed' is not a committed run"), show.output());
    }

    /**
     * A killed run on s3a:// whose last checkpoint was then damaged (a bit flipped in the bucket, where no file system
     * checksum would notice it: S3A writes none): the rerun, through the launcher, logs a WARN naming the damaged
     * checkpoint and its digests, resumes from the checkpoint before it, and ends with the undisturbed run's epoch 2,
     * each epoch once in metrics.jsonl.
     */
    @Test
    void aDamagedLastCheckpointOnS3IsPassedOverByTheDigest() throws Exception {
        List<String> args = s3.command("train", "--warehouse", WAREHOUSE, "--epochs", "2",
                "--run-id", "flipped", "--set", "train.max-examples=5000");
        // Both runs through the launcher: the same JVM flags and BLAS, so the same arithmetic.
        Launched first = Launched.run(args, Map.of());
        assertEquals(0, first.code(), first.output());
        String run = WAREHOUSE + "/runs/flipped/";
        try (FileSystem fs = bucket()) {
            List<String> undisturbed = new String(fs.open(new Path(run + "metrics.jsonl")).readAllBytes(),
                    StandardCharsets.UTF_8).lines().toList();
            assertTrue(fs.exists(new Path(run + "checkpoints/epoch-2.zip.sha256")), "the digest is in the bucket");
            // As a kill after epoch 2's checkpoint leaves it, then one bit of that checkpoint changed.
            fs.delete(new Path(run + "_SUCCESS"), false);
            fs.delete(new Path(run + "model.zip"), false);
            byte[] bytes = fs.open(new Path(run + "checkpoints/epoch-2.zip")).readAllBytes();
            bytes[bytes.length / 2] ^= 0x08;
            try (var out = fs.create(new Path(run + "checkpoints/epoch-2.zip"), true)) {
                out.write(bytes);
            }
            Launched again = Launched.run(args, Map.of());
            assertEquals(0, again.code(), again.output());
            assertTrue(again.output().contains("WARN") && again.output().contains("not resuming from epoch-2.zip: " + run
                    + "checkpoints/epoch-2.zip is damaged: its SHA-256 is "), again.output());
            assertTrue(again.output().contains("resuming after epoch 1"), again.output());
            List<String> resumed = new String(fs.open(new Path(run + "metrics.jsonl")).readAllBytes(),
                    StandardCharsets.UTF_8).lines().toList();
            assertEquals(2, resumed.size(), resumed.toString());
            JsonNode before = Warehouse.JSON.readTree(undisturbed.get(1));
            JsonNode after = Warehouse.JSON.readTree(resumed.get(1));
            assertEquals(2, after.get("epoch").asInt());
            assertEquals(before.get("val_loss").asDouble(), after.get("val_loss").asDouble(), "epoch 2 trained again alike");
            assertTrue(fs.exists(new Path(run + "_SUCCESS")));
        }
    }

    /**
     * The S3 server stopped during epoch 2 (issue 17): the run fails within a minute with one line naming the URI and
     * the endpoint, nothing after it but the debug hint, nothing committed; with the server back, the same command
     * resumes after the last checkpoint, commits, and leaves no lock or scratch behind.
     */
    @Test
    void anS3OutageFailsWithinAMinuteSayingSoAndTheSameCommandResumes() throws Exception {
        List<String> args = s3.command("train", "--warehouse", WAREHOUSE, "--epochs", "4", "--workers", "1",
                "--run-id", "outage", "--set", "train.max-examples=10000");
        Process p = Launched.start(args, Map.of());
        StringBuilder seen = new StringBuilder();
        long stoppedAt;
        try {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null && !line.contains("epoch 1/4:")) {
                    seen.append(line).append('\n');
                }
                assertTrue(line != null, seen.toString());
                s3.halt();
                stoppedAt = System.nanoTime();
                while ((line = out.readLine()) != null) {
                    seen.append(line).append('\n');
                }
            }
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), seen.toString());
            double seconds = (System.nanoTime() - stoppedAt) / 1e9;
            System.out.printf("S3 outage: exit %d %.1f s after the server stopped%n", p.exitValue(), seconds);
            assertEquals(1, p.exitValue(), seen.toString());
            assertTrue(seconds < 60, seconds + " s\n" + seen);
            List<String> lines = seen.toString().lines().toList();
            int failed = lines.size() - 2;
            assertTrue(lines.get(failed).startsWith("imgtrain train: failed: " + WAREHOUSE + "/")
                    && lines.get(failed).contains(": the S3 server at " + s3.endpoint() + " is unreachable"), seen.toString());
            assertEquals("(set IMGTRAIN_DEBUG=1 for the stack trace)", lines.get(failed + 1));
        } finally {
            p.destroyForcibly();
            s3.resume();
        }
        try (FileSystem fs = bucket()) {
            assertFalse(objects(fs, "runs/outage").containsKey("_SUCCESS"), "nothing committed");
        }
        Launched again = Launched.run(args, Map.of());
        assertEquals(0, again.code(), again.output());
        assertTrue(again.output().contains("train outage: resuming after epoch"), again.output());
        try (FileSystem fs = bucket()) {
            Map<String, Long> run = objects(fs, "runs/outage");
            assertTrue(run.containsKey("_SUCCESS") && run.containsKey("model.zip"), run.keySet().toString());
            try (var in = fs.open(new Path(WAREHOUSE + "/runs/outage/metrics.jsonl"))) {
                List<Integer> epochs = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                        .map(l -> dev.imgtrain.train.EpochMetrics.parse(l).epoch()).toList();
                assertEquals(List.of(1, 2, 3, 4), epochs);
            }
            assertFalse(fs.exists(new Path(WAREHOUSE + "/_locks/run-outage.lock")), "lock released");
            assertTrue(!fs.exists(new Path(WAREHOUSE + "/_tmp")) || objects(fs, "_tmp").isEmpty(),
                    "the failed attempt's scratch was removed: " + (fs.exists(new Path(WAREHOUSE + "/_tmp")) ? objects(fs, "_tmp") : ""));
        }
    }

    /** A warehouse of its own S3A client (no FileSystem cache): a contender as another process would be. */
    private static Warehouse contender(java.time.Duration staleAfter) {
        org.apache.hadoop.conf.Configuration conf = s3.hadoop();
        conf.setBoolean("fs.s3a.impl.disable.cache", true);
        return new Warehouse(WAREHOUSE, conf, staleAfter);
    }

    /**
     * Issue 27: a lock on s3a:// is taken by exactly one of the processes that try at once. 20 rounds of 8 contenders
     * (each its own S3A client and connections) for a run's lock and 20 for a dataset's promotion lock: one winner each
     * time, the others told who holds it. Then 20 rounds of 8 taking over the same dead holder's lock at once (a PUT
     * conditional on its ETag): again one. Before S3's conditional writes, S3A's check-then-PUT let several through.
     */
    @Test
    void aLockOnS3IsTakenByExactlyOneOfTheContendersEveryTime() throws Exception {
        int contenders = 8;
        List<Warehouse> warehouses = new ArrayList<>();
        for (int i = 0; i < contenders; i++) {
            warehouses.add(contender(java.time.Duration.ofMinutes(10)));
        }
        Process exited = new ProcessBuilder("true").start();
        assertTrue(exited.waitFor(10, TimeUnit.SECONDS));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(contenders);
        try (FileSystem fs = bucket()) {
            for (String kind : List.of("run", "promote", "takeover")) {
                for (int round = 0; round < 20; round++) {
                    Path lock = kind.equals("promote")
                            ? new Path(WAREHOUSE + "/models/contest-" + round + "/_promote.lock")
                            : warehouses.get(0).runLock(kind + "-" + round);
                    if (kind.equals("takeover")) {
                        try (var out = fs.create(lock, true)) { // a lease whose holder died on this host
                            out.write(("{\"pid\": " + exited.pid() + ", \"host\": \"" + java.net.InetAddress
                                    .getLocalHost().getHostName() + "\", \"what\": \"train dead\"}").getBytes());
                        }
                    }
                    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                    List<java.util.concurrent.Future<Object>> tries = new ArrayList<>();
                    for (Warehouse wh : warehouses) {
                        tries.add(pool.submit(() -> {
                            go.await();
                            try {
                                return dev.imgtrain.store.Lease.acquire(wh, lock, kind + " contest");
                            } catch (dev.imgtrain.store.Lease.HeldException held) {
                                return held;
                            }
                        }));
                    }
                    go.countDown();
                    List<dev.imgtrain.store.Lease> winners = new ArrayList<>();
                    for (var t : tries) {
                        Object result = t.get(120, TimeUnit.SECONDS);
                        if (result instanceof dev.imgtrain.store.Lease lease) {
                            winners.add(lease);
                        } else {
                            assertTrue(((Exception) result).getMessage().contains(" is held by pid "
                                    + ProcessHandle.current().pid()), ((Exception) result).getMessage());
                        }
                    }
                    assertEquals(1, winners.size(), kind + " round " + round + ": " + winners.size() + " winners");
                    winners.get(0).verify();
                    winners.get(0).close();
                    assertFalse(fs.exists(lock), "released");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Issue 27: a training run stopped with SIGSTOP past storage.stale-after, its lock taken over by the same command
     * run again, then SIGCONT: the stopped one exits 1 with the lost-lock line naming the new holder and writes nothing
     * more; the new holder resumes from the last checkpoint and commits every epoch once, its model intact.
     */
    @Test
    void aStoppedHolderTakenOverStopsWithTheLostLockLineAndTheNewHolderCommits() throws Exception {
        List<String> args = s3.command("train", "--warehouse", WAREHOUSE, "--epochs", "4", "--workers", "1",
                "--run-id", "frozen", "--set", "train.max-examples=5000", "--set", "storage.stale-after=10s");
        Process first = Launched.start(args, Map.of());
        StringBuilder firstOut = new StringBuilder();
        Thread reader = null;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null && !line.contains("epoch 1/4:")) {
                firstOut.append(line).append('\n');
            }
            assertTrue(line != null, firstOut.toString());
            firstOut.append(line).append('\n');
            signal("STOP", first.pid());
            Thread.sleep(12_000); // past storage.stale-after: its lock is dead to the next process
            Process second = Launched.start(args, Map.of());
            StringBuilder secondOut = new StringBuilder();
            BufferedReader out2 = new BufferedReader(new InputStreamReader(second.getInputStream(), StandardCharsets.UTF_8));
            while ((line = out2.readLine()) != null && !line.contains("resuming after epoch")) {
                secondOut.append(line).append('\n');
            }
            assertTrue(line != null, secondOut.toString());
            secondOut.append(line).append('\n');
            assertTrue(secondOut.toString().contains("WARN") && secondOut.toString().contains("taking over " + WAREHOUSE
                    + "/_locks/run-frozen.lock from a dead holder: pid " + first.pid()), secondOut.toString());
            signal("CONT", first.pid());
            long continued = System.nanoTime();
            reader = new Thread(() -> {
                try {
                    for (String l; (l = out.readLine()) != null; ) {
                        synchronized (firstOut) {
                            firstOut.append(l).append('\n');
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // the process ended
                }
            });
            reader.start();
            assertTrue(first.waitFor(60, TimeUnit.SECONDS), firstOut.toString());
            reader.join(10_000);
            System.out.printf("lost lock: the stopped holder exited %d %.1f s after SIGCONT%n", first.exitValue(),
                    (System.nanoTime() - continued) / 1e9);
            assertEquals(1, first.exitValue(), firstOut.toString());
            String expected = "imgtrain train: failed: lost the run lock to pid " + second.pid() + " on "
                    + java.net.InetAddress.getLocalHost().getHostName() + ": " + WAREHOUSE + "/_locks/run-frozen.lock was "
                    + "taken over while this process was silent for longer than storage.stale-after (10 s)";
            assertTrue(firstOut.toString().contains(expected), firstOut.toString());
            assertFalse(firstOut.toString().contains("train frozen: committed"), firstOut.toString());

            for (String l; (l = out2.readLine()) != null; ) {
                secondOut.append(l).append('\n');
            }
            assertTrue(second.waitFor(300, TimeUnit.SECONDS));
            assertEquals(0, second.exitValue(), secondOut.toString());
        } finally {
            first.destroyForcibly();
        }
        try (FileSystem fs = bucket()) {
            try (var in = fs.open(new Path(WAREHOUSE + "/runs/frozen/metrics.jsonl"))) {
                List<Integer> epochs = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                        .map(l -> dev.imgtrain.train.EpochMetrics.parse(l).epoch()).toList();
                assertEquals(List.of(1, 2, 3, 4), epochs);
            }
            assertTrue(fs.exists(new Path(WAREHOUSE + "/runs/frozen/_SUCCESS")));
            dev.imgtrain.model.ModelStore.verify(new Warehouse(WAREHOUSE, s3.hadoop()),
                    new Path(WAREHOUSE + "/runs/frozen/model.zip"));
            assertFalse(fs.exists(new Path(WAREHOUSE + "/_locks/run-frozen.lock")), "the new holder released it");
        }
    }

    /**
     * Two trains of one run id and two promotes of one run, each pair started together through the launcher: one
     * trains (the other is told the run is being trained, or already committed when it came that late), and the
     * promotion is recorded once.
     */
    @Test
    void twoTrainsAndTwoPromotesStartedTogetherHaveOneWinner() throws Exception {
        List<String> train = s3.command("train", "--warehouse", WAREHOUSE, "--epochs", "1", "--workers", "1",
                "--run-id", "twin", "--set", "train.max-examples=5000");
        Process a = Launched.start(train, Map.of());
        Process b = Launched.start(train, Map.of());
        String outA = new String(a.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String outB = new String(b.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(a.waitFor(300, TimeUnit.SECONDS) && b.waitFor(300, TimeUnit.SECONDS));
        assertEquals(1, (a.exitValue() == 0 ? 1 : 0) + (b.exitValue() == 0 ? 1 : 0), outA + "\n----\n" + outB);
        String loser = a.exitValue() == 0 ? outB : outA;
        assertTrue(loser.contains("run 'twin' is being trained by another process: pid ")
                || loser.contains("run 'twin' is already committed"), loser);

        List<String> promote = s3.command("promote", "--warehouse", WAREHOUSE, "--run", "s3run",
                "--dataset", "mnist");
        Process p = Launched.start(promote, Map.of());
        Process q = Launched.start(promote, Map.of());
        String outP = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String outQ = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS) && q.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), outP);
        assertEquals(0, q.exitValue(), outQ);
        try (FileSystem fs = bucket(); var in = fs.open(new Path(WAREHOUSE + "/models/mnist/promotions.jsonl"))) {
            List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            assertEquals(1, lines.size(), lines.toString());
        }
        assertEquals(1, (outP.contains("already the current model") ? 1 : 0) + (outQ.contains("already the current model") ? 1 : 0),
                outP + "\n----\n" + outQ);
    }

    private static void signal(String name, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + name + " " + pid);
    }
}
