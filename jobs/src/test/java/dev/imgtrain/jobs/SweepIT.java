package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.sweep.SweepSpec;
import dev.imgtrain.testing.HeadlessChromium;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.Row;
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
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sweeps on real MNIST (6 trials, 1 epoch on 3,000 examples each): an uninterrupted sweep (2 trials at a time) and its
 * re-run, which trains nothing; a sweep killed with SIGKILL during its fourth trial and run again, which trains only
 * the unfinished trials and ends with the same leaderboard; bad specs; the page in headless Chromium; both notebooks
 * executed on the sweep's warehouse.
 */
class SweepIT {
    private static final String SPEC = """
            sweep {
              id = it-sweep
              dataset = mnist
              base { train.epochs = 1, train.max-examples = 3000, train.checkpoints = false }
              grid {
                model.updater.learning-rate = [0.0005, 0.001, 0.002]
                model.hidden = [[{units = 32, activation = relu}], [{units = 64, activation = relu}]]
              }
            }
            """;
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static Path spec;
    private static Path whole;
    private static String[] first;
    private static String wholeOut;

    @BeforeAll
    static void sweepOnce() throws Exception {
        spark = LocalSpark.start("sweep");
        spec = tmp.resolve("it-sweep.conf");
        Files.writeString(spec, SPEC);
        whole = tmp.resolve("whole");
        String[][] out = new String[1][];
        wholeOut = CliParsingTest.stdout(() -> out[0] = CliParsingTest.execute(args(whole, "--parallel", "2")));
        first = out[0];
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String[] args(Path warehouse, String... more) {
        List<String> a = new ArrayList<>(List.of("sweep", "--spec", spec.toString(), "--source",
                LocalSpark.mnistDir().toString(), "--warehouse", warehouse.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private static List<String> trialIds() {
        return SweepSpec.parse(SPEC, "it-sweep.conf", null).trials().stream().map(SweepSpec.Trial::runId).toList();
    }

    /**
     * The leaderboard's rows without the columns that measure time, and with the val loss to 6 significant digits: the
     * loss is a float computation summed over thousands of examples, and CI once saw the same trial's loss differ in its
     * 8th digit (0.94033361 against 0.94033364) between the run with {@code --parallel 2} and the resumed one while every
     * accuracy, the ranking and the trials were equal; on the hold-out (issue 28) its 7th (0.9153183 against 0.9153182). What the test asserts is that the resumed sweep ran the same
     * trials and reached the same results; the last bit of a float sum is not part of that.
     */
    private static List<String> leaderboard(Path warehouse) throws Exception {
        List<String> rows = new ArrayList<>();
        for (JsonNode r : Warehouse.JSON.readTree(warehouse.resolve("sweeps/it-sweep/leaderboard.json").toFile())) {
            rows.add(String.join(" | ", r.path("run_id").asText(), r.path("status").asText(),
                    r.path("model.updater.learning-rate").asText(), r.path("model.hidden").asText(),
                    r.path("final_val_accuracy").asText(),
                    String.format(java.util.Locale.ROOT, "%.5e", r.path("final_val_loss").asDouble()),
                    r.path("test_accuracy").asText()));
        }
        return rows;
    }

    @Test
    void aSweepCommitsEveryTrialALeaderboardAndAPageAndARerunTrainsNothing() throws Exception {
        assertEquals("0", first[0], first[1]);
        assertTrue(wholeOut.contains("sweep it-sweep: 6 trials (0 already done, 6 run), 0 failed"), wholeOut);
        for (String id : trialIds()) {
            assertTrue(Files.exists(whole.resolve("runs/" + id + "/_SUCCESS")), id);
            assertTrue(Files.exists(whole.resolve("runs/" + id + "/report/index.html")), id);
        }
        Path dir = whole.resolve("sweeps/it-sweep");
        assertEquals(SPEC, Files.readString(dir.resolve("spec.conf")));
        List<String> csv = Files.readAllLines(dir.resolve("leaderboard.csv"));
        assertEquals(7, csv.size(), String.join("\n", csv));
        assertTrue(csv.get(0).startsWith("run_id,status,model.hidden,model.updater.learning-rate,final_val_accuracy,"), csv.get(0));
        List<Row> parquet = spark.read().parquet(dir.resolve("leaderboard.parquet").toString()).collectAsList();
        assertEquals(6, parquet.size());
        assertEquals(Set.copyOf(trialIds()), parquet.stream().map(r -> r.getString(0)).collect(Collectors.toSet()));
        JsonNode board = Warehouse.JSON.readTree(dir.resolve("leaderboard.json").toFile());
        for (int i = 1; i < board.size(); i++) {
            assertTrue(board.get(i - 1).path("final_val_accuracy").asDouble() >= board.get(i).path("final_val_accuracy").asDouble(),
                    "sorted best first: " + board);
        }
        assertTrue(board.get(0).path("final_val_accuracy").asDouble() > 0.8, board.get(0).toString());

        long before = Files.getLastModifiedTime(whole.resolve("runs/" + trialIds().get(0) + "/_SUCCESS")).toMillis();
        String[][] again = new String[1][];
        String out = CliParsingTest.stdout(() -> again[0] = CliParsingTest.execute(args(whole)));
        assertEquals("0", again[0][0], again[0][1]);
        assertTrue(out.contains("6 trials (6 already done, 0 run), 0 failed"), out);
        assertEquals(before, Files.getLastModifiedTime(whole.resolve("runs/" + trialIds().get(0) + "/_SUCCESS")).toMillis());

        String[][] listed = new String[1][];
        String list = CliParsingTest.stdout(() -> listed[0] = CliParsingTest.execute("sweeps", "list", "--warehouse", whole.toString()));
        assertEquals("0", listed[0][0], listed[0][1]);
        assertTrue(list.contains("it-sweep") && list.contains(board.get(0).path("run_id").asText()), list);
        String show = CliParsingTest.stdout(() -> CliParsingTest.execute("sweeps", "show", "it-sweep", "--warehouse", whole.toString()));
        assertEquals(8, show.lines().filter(l -> !l.isBlank()).count(), show);
    }

    /**
     * Starts {@code args} through the launcher, kills it (SIGKILL) when the training of run {@code runId} starts, checks
     * that it died, and returns what it printed.
     */
    private static String killWhenTrainingStarts(List<String> args, String runId) throws Exception {
        Process p = Launched.start(args, Map.of());
        StringBuilder seen = new StringBuilder();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                seen.append(line).append('\n');
                if (line.contains("train " + runId + ": ") && line.contains(" on mnist (")) { // its training starts
                    break;
                }
            }
            p.destroyForcibly();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        }
        assertNotEquals(0, p.exitValue(), seen.toString());
        return seen.toString();
    }

    @Test
    void aSweepKilledInItsFourthTrialFinishesWithTheSameLeaderboard() throws Exception {
        Path killed = tmp.resolve("killed");
        String fourth = trialIds().get(3);
        String seen = killWhenTrainingStarts(List.of(args(killed)), fourth);
        assertTrue(Files.exists(killed.resolve("runs/" + fourth + "/params.json")), seen);
        assertFalse(Files.exists(killed.resolve("runs/" + fourth + "/_SUCCESS")), seen);

        String[][] rerun = new String[1][];
        String out = CliParsingTest.stdout(() -> rerun[0] = CliParsingTest.execute(args(killed)));
        assertEquals("0", rerun[0][0], rerun[0][1]);
        assertTrue(out.contains("6 trials (3 already done, 3 run), 0 failed"), out + seen);
        assertEquals(leaderboard(whole), leaderboard(killed), "same seeds, same trials: the same rows");
    }

    /** Issue 28: 6 trials up to 4 epochs, rungs at 1 and 2 epochs (eta 2), one trial at a time (a fixed arrival order). */
    private static final String ASHA = """
            sweep {
              id = it-asha
              dataset = mnist
              base { train.max-examples = 3000 }
              asha {
                min-epochs = 1, max-epochs = 4, reduction-factor = 2, seed = 3
                grid {
                  model.updater.learning-rate = [0.0005, 0.001, 0.002]
                  model.hidden = [[{units = 32, activation = relu}], [{units = 64, activation = relu}]]
                }
              }
            }
            """;

    /** An ASHA leaderboard's rows: run, status, epochs, rung, the metric at each rung, outcome, val and test accuracy. */
    private static List<String> ashaBoard(Path warehouse) throws Exception {
        List<String> rows = new ArrayList<>();
        for (JsonNode r : Warehouse.JSON.readTree(warehouse.resolve("sweeps/it-asha/leaderboard.json").toFile())) {
            rows.add(String.join(" | ", r.path("run_id").asText(), r.path("status").asText(), r.path("epochs").asText(),
                    r.path("rung").asText(), r.path("rung_metrics").asText(), r.path("outcome").asText(),
                    r.path("final_val_accuracy").asText(), r.path("test_accuracy").asText()));
        }
        return rows;
    }

    /** ASHA's decisions in order, without their time stamps. */
    private static List<String> decisions(Path warehouse) throws Exception {
        return Files.readAllLines(warehouse.resolve("sweeps/it-asha/asha.jsonl")).stream()
                .map(l -> l.replaceAll(",\\s*\"at\"\\s*:\\s*\"[^\"]*\"", "")).toList();
    }

    @Test
    void anAshaSweepStopsTrialsAtRungsAndAKilledOneEndsWithTheSameLeaderboard() throws Exception {
        Path spec = tmp.resolve("it-asha.conf");
        Files.writeString(spec, ASHA);
        List<String> args = List.of("sweep", "--spec", spec.toString(), "--source", LocalSpark.mnistDir().toString(),
                "--parallel", "1", "--warehouse");
        // Every sweep of this test through the launcher (bin/imgtrain: its JVM, local[2], Debian's OpenBLAS), as the
        // killed one must be: the test JVM's ND4J rounds its products differently (epoch 1's val accuracy of one trial
        // was 0.8336 here and 0.8340 there).
        Path whole = tmp.resolve("asha-whole");
        List<String> run = new ArrayList<>(args);
        run.add(whole.toString());
        Launched uninterrupted = Launched.run(run, Map.of());
        assertEquals(0, uninterrupted.code(), uninterrupted.output());
        List<String> board = ashaBoard(whole);
        System.out.println("SweepIT: ASHA leaderboard:\n  " + String.join("\n  ", board));
        JsonNode rows = Warehouse.JSON.readTree(whole.resolve("sweeps/it-asha/leaderboard.json").toFile());
        int epochs = 0;
        int stopped = 0;
        for (JsonNode r : rows) {
            epochs += r.path("epochs").asInt();
            String outcome = r.path("outcome").asText();
            assertTrue(outcome.startsWith("stopped at rung ") || outcome.equals("completed (4 epochs)"), r.toString());
            List<String> lines = Files.readAllLines(whole.resolve("runs/" + r.path("run_id").asText() + "/metrics.jsonl"));
            assertEquals(r.path("epochs").asInt(), lines.size(), "each epoch once, a promoted trial resumed: " + lines);
            if (outcome.startsWith("stopped at rung 0")) {
                stopped++;
                assertEquals(1, r.path("epochs").asInt(), r.toString());
                assertTrue(lines.get(0).contains("\"stop_reason\":\"ASHA: stopped at rung 0 (1 epoch): val_accuracy "),
                        lines.get(0));
            } else if (outcome.startsWith("stopped at rung 1")) {
                assertEquals(2, r.path("epochs").asInt(), r.toString());
            } else {
                assertEquals(4, r.path("epochs").asInt(), r.toString());
            }
            assertTrue(r.path("validation").asText().startsWith("hold-out 0.1"), r.toString());
        }
        assertTrue(stopped >= 1 && epochs < 6 * 4, epochs + " epochs of the 24 a full search trains: " + board);
        String page = Files.readString(whole.resolve("sweeps/it-asha/index.html"));
        assertTrue(page.contains("ASHA: rungs at epoch 1, 2; at each rung the best 1/2 of the trials that reached it are "
                + "promoted and resume from their checkpoint, the others stop there; up to 4 epochs")
                && page.contains("validation accuracy on hold-out 0.1 of train. Test accuracy is shown beside it and is "
                + "not used for the ranking."), page);

        // The same sweep killed (SIGKILL) while its third trial trains, then run again.
        Path killed = tmp.resolve("asha-killed");
        List<String> third = new ArrayList<>(args);
        third.add(killed.toString());
        String thirdId = SweepSpec.parse(ASHA, "it-asha.conf", null).trials().get(2).runId();
        String seen = killWhenTrainingStarts(third, thirdId);
        assertTrue(Files.exists(killed.resolve("sweeps/it-asha/asha.jsonl")), "decisions were recorded: " + seen);
        Launched again = Launched.run(third, Map.of());
        assertEquals(0, again.code(), again.output());
        assertTrue(again.output().contains("results and promotions recorded before"), again.output());
        assertEquals(board, ashaBoard(killed), "row by row");
        assertEquals(decisions(whole), decisions(killed), "the same decisions in the same order");
    }

    @Test
    void badSpecsExitTwoNamingTheKeyAndWriteNothing() throws Exception {
        Path wh = tmp.resolve("bad");
        Map<String, String> specs = Map.of(
                "sweep { id = b, grid { train.epochz = [1] } }", "unknown configuration key [train.epochz]",
                "sweep { id = b, grid {} }", "sweep.grid is empty",
                "sweep { id = b, random { trials = 0, space { train.seed.choice = [1] } } }", "sweep.random.trials = 0",
                "sweep { id = b, grid { train.epochs = [many] } }", "train.epochs = \"many\": expected an integer");
        for (Map.Entry<String, String> bad : specs.entrySet()) {
            Path file = tmp.resolve("bad.conf");
            Files.writeString(file, bad.getKey());
            String[] result = CliParsingTest.execute("sweep", "--spec", file.toString(), "--warehouse", wh.toString());
            assertEquals("2", result[0], result[1]);
            assertTrue(result[1].startsWith("imgtrain sweep: configuration error: ") && result[1].contains(bad.getValue()),
                    result[1]);
            assertEquals(1, result[1].strip().lines().count(), result[1]);
        }
        assertFalse(Files.exists(wh), "nothing written");
    }

    @Test
    void thePageOpensInChromiumAndTheNotebooksRun() throws Exception {
        Path page = whole.resolve("sweeps/it-sweep/index.html");
        String best = Warehouse.JSON.readTree(whole.resolve("sweeps/it-sweep/sweep.json").toFile()).path("best_run_id").asText();
        try (HeadlessChromium chromium = HeadlessChromium.start()) {
            HeadlessChromium.PageCheck check = chromium.open(page.toUri());
            Files.createDirectories(Path.of("target/report-screenshots"));
            Files.write(Path.of("target/report-screenshots/sweep.png"), check.screenshot());
            assertEquals(List.of(), check.errors());
            assertEquals(Set.of("val-accuracy.png", "param-1.png", "param-2.png"),
                    check.images().stream().map(HeadlessChromium.Image::src).collect(Collectors.toSet()));
            check.images().forEach(i -> assertTrue(i.naturalWidth() > 0, i + " did not load"));
            assertTrue(check.text().contains("Sweep it-sweep") && check.text().contains("best " + best), check.text());
            assertTrue(check.text().contains("★"), "the best trial is marked: " + check.text());
        }
        Matcher links = Pattern.compile("href=\"([^\"]+)\"").matcher(Files.readString(page));
        int count = 0;
        while (links.find()) {
            assertTrue(Files.isRegularFile(page.getParent().resolve(links.group(1)).normalize()), links.group(1));
            count++;
        }
        assertEquals(6, count, "every trial links to its report");

        for (String notebook : List.of("explore-dataset", "compare-sweep")) {
            Path executed = tmp.resolve("executed");
            ProcessBuilder pb = new ProcessBuilder("/usr/bin/jupyter-nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=300", "--output-dir", executed.toString(),
                    S3Server.ROOT.resolve("notebooks/" + notebook + ".ipynb").toString()).redirectErrorStream(true);
            pb.environment().put("IMGTRAIN_WAREHOUSE", whole.toString());
            pb.environment().put("IMGTRAIN_DATASET", "mnist");
            pb.environment().remove("IMGTRAIN_SWEEP");
            Process p = pb.start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), notebook + ": " + log);
            String result = Files.readString(executed.resolve(notebook + ".ipynb"));
            assertFalse(result.contains("\"output_type\": \"error\""), result);
            assertTrue(result.contains("image/png"), notebook + " drew no figure");
            if (notebook.equals("compare-sweep")) {
                assertTrue(result.contains("best trial: " + best), result);
            } else {
                assertTrue(result.contains("\\\"images_shown\\\": 64"), result);
            }
        }
    }
}
