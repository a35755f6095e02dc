package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training driver killed with SIGKILL during epoch 3 of 6 (real MNIST, 10,000 examples, 1 worker): the same command
 * resumes after epoch 2 from its checkpoint, writes each epoch once and ends where an uninterrupted run with the same
 * seed ends; the killed attempt's scratch is cleaned up; a committed run is refused unless --fresh or skipped.
 */
class ResumeIT {
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static Path wh;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("resume");
        wh = tmp.resolve("wh");
        String[] ingest = CliParsingTest.execute("ingest", "--source", LocalSpark.mnistDir().toString(), "--warehouse", wh.toString());
        assertEquals("0", ingest[0], ingest[1]);
        assertEquals("0", CliParsingTest.execute("preprocess", "--warehouse", wh.toString())[0]);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static List<String> train(String runId, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--warehouse", wh.toString(), "--epochs", "6", "--workers", "2",
                "--run-id", runId, "--set", "train.max-examples=10000"));
        args.addAll(List.of(more));
        return args;
    }

    private static List<JsonNode> metrics(String runId) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(wh.resolve("runs/" + runId + "/metrics.jsonl"))) {
            lines.add(Warehouse.JSON.readTree(line));
        }
        return lines;
    }

    @Test
    void aDriverKilledInEpochThreeResumesThereAndEndsLikeAnUninterruptedRun() throws Exception {
        // Every attempt through the launcher: a run in this test JVM (ND4J's bundled OpenBLAS, the test class path and JVM
        // flags) ended apart from the launcher's (epoch 2: 0.8927 against 0.8946), and that is not a fault of resuming.
        Launched whole = Launched.run(train("whole"), Map.of());
        assertEquals(0, whole.code(), whole.output());

        Process p = Launched.start(train("resumed"), Map.of());
        StringBuilder seen = new StringBuilder();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                seen.append(line).append('\n');
                if (line.contains("epoch 2/6:")) {
                    break; // epoch 2's checkpoint is written; epoch 3 starts now
                }
            }
            Thread.sleep(500);
            p.destroyForcibly();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        }
        assertNotEquals(0, p.exitValue(), seen.toString());
        assertFalse(Files.exists(wh.resolve("runs/resumed/_SUCCESS")), seen.toString());
        try (var scratch = Files.list(wh.resolve("_tmp"))) {
            assertTrue(scratch.anyMatch(s -> s.getFileName().toString().startsWith("batches-resumed-")), "the kill left scratch");
        }
        Path lock = wh.resolve("_locks/run-resumed.lock");
        assertEquals(p.pid(), Warehouse.JSON.readTree(lock.toFile()).get("pid").asLong(), "the kill left its lock");

        Launched again = Launched.run(train("resumed"), Map.of());
        assertEquals(0, again.code(), again.output());
        assertTrue(again.output().contains("resuming after epoch 2"), again.output());
        List<JsonNode> resumed = metrics("resumed");
        List<JsonNode> uninterrupted = metrics("whole");
        assertEquals(List.of(1, 2, 3, 4, 5, 6), resumed.stream().map(m -> m.path("epoch").asInt()).toList(), "each epoch once");
        double a = uninterrupted.get(5).path("val_accuracy").asDouble();
        double b = resumed.get(5).path("val_accuracy").asDouble();
        assertEquals(a, b, 0.0, "the resumed run's last epoch is the uninterrupted one's: " + a + " vs " + b);
        assertEquals(uninterrupted.get(1).path("val_accuracy").asDouble(), resumed.get(1).path("val_accuracy").asDouble(), 0.0,
                "epochs before the kill are the killed attempt's own lines");
        try (var scratch = Files.list(wh.resolve("_tmp"))) {
            assertTrue(scratch.noneMatch(s -> s.getFileName().toString().startsWith("batches-resumed-")), "scratch cleaned up");
        }
        assertFalse(Files.exists(lock), "the dead process's lock was taken over, then released");

        String[] refused = CliParsingTest.execute(train("resumed").toArray(String[]::new));
        assertEquals("1", refused[0], refused[1]);
        assertTrue(refused[1].contains("run 'resumed' is already committed") && refused[1].contains("--fresh"), refused[1]);
        assertEquals("0", CliParsingTest.execute(train("resumed", "--if-committed", "skip").toArray(String[]::new))[0]);
    }

    /** Two launches of one run id at the same moment: one trains, the other exits 1 naming the first (issue 17). */
    @Test
    void twoRunsWithOneRunIdStartedAtOnceOneProceedsTheOtherNamesIt() throws Exception {
        Process first = Launched.start(train("twice"), Map.of());
        Process second = Launched.start(train("twice"), Map.of());
        String[] outputs = new String[2];
        Thread reader = new Thread(() -> {
            try {
                outputs[1] = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                outputs[1] = e.toString();
            }
        });
        reader.start();
        outputs[0] = new String(first.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        reader.join(600_000);
        assertTrue(first.waitFor(60, TimeUnit.SECONDS) && second.waitFor(60, TimeUnit.SECONDS));
        List<Integer> codes = List.of(first.exitValue(), second.exitValue());
        assertTrue(codes.contains(0) && codes.contains(1), codes + "\n" + outputs[0] + "\n----\n" + outputs[1]);
        int loser = codes.indexOf(1);
        long winnerPid = (loser == 0 ? second : first).pid();
        String line = outputs[loser].lines().filter(l -> l.startsWith("imgtrain train: failed:")).findFirst().orElse(outputs[loser]);
        System.out.println("ResumeIT (same run id twice): " + line);
        assertTrue(line.startsWith("imgtrain train: failed: run 'twice' is being trained by another process: pid "
                + winnerPid + " on "), line);
        assertTrue(Files.exists(wh.resolve("runs/twice/_SUCCESS")));
        assertEquals(List.of(1, 2, 3, 4, 5, 6), metrics("twice").stream().map(m -> m.path("epoch").asInt()).toList());
        assertFalse(Files.exists(wh.resolve("_locks/run-twice.lock")));
    }
}
