package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scheduled retraining as Airflow would run it, with the real CLI on local Spark and real MNIST: the exact argument
 * lists deploy/airflow/dags/imgtrain_commands.py returns for a logical date, run twice (no second run, no second
 * promotion); a worse run that promote refuses (exit 3); batch scoring with the current model (archives, a folder of
 * PNGs, bad files, one image); and the DAG's Python checked with Debian's python3 (no Airflow there).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RetrainIT {
    private static final String DATE = "2026-11-29";
    private static final String RUN = "mnist-mnist-dense-512-20261129";
    private static final Path DAGS = S3Server.ROOT.resolve("deploy/airflow/dags");
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static Path wh;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("retrain");
        wh = tmp.resolve("wh");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static String python(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    /** The DAG's task lists for {@link #DATE}: what each SparkSubmitOperator passes after the jar. */
    private static Map<String, List<String>> tasks() throws Exception {
        String params = Warehouse.JSON.writeValueAsString(Map.of("source", LocalSpark.mnistDir().toString(),
                "warehouse", wh.toString(), "epochs", 2));
        JsonNode json = Warehouse.JSON.readTree(python(DAGS.resolve("imgtrain_commands.py").toString(), DATE, params));
        Map<String, List<String>> tasks = new java.util.LinkedHashMap<>();
        json.fields().forEachRemaining(e -> {
            List<String> args = new ArrayList<>();
            e.getValue().forEach(a -> args.add(a.asText()));
            tasks.put(e.getKey(), args);
        });
        return tasks;
    }

    private static String[] cli(List<String> args) {
        return CliParsingTest.execute(args.toArray(String[]::new));
    }

    private static JsonNode json(Path file) throws Exception {
        return Warehouse.JSON.readTree(file.toFile());
    }

    @Test
    @Order(1)
    void theDagsCommandsTrainAndPromoteOnceForALogicalDate() throws Exception {
        Map<String, List<String>> tasks = tasks();
        assertEquals(List.of("ingest", "preprocess", "train", "evaluate", "report", "promote"), List.copyOf(tasks.keySet()));
        for (Map.Entry<String, List<String>> task : tasks.entrySet()) {
            String[] r = cli(task.getValue());
            assertEquals("0", r[0], task.getKey() + ": " + r[1]);
        }
        JsonNode current = json(wh.resolve("models/mnist/current.json"));
        assertEquals(RUN, current.path("run_id").asText());
        assertEquals(json(wh.resolve("runs/" + RUN + "/evaluation.json")).path("accuracy").asDouble(),
                current.path("accuracy").asDouble(), 0.0);
        assertTrue(current.path("accuracy").asDouble() > 0.96, current.toString());
        assertTrue(Files.isRegularFile(Path.of(java.net.URI.create(current.path("model").asText()))), current.toString());
        assertTrue(Files.exists(wh.resolve("runs/" + RUN + "/report/index.html")));

        long trained = Files.getLastModifiedTime(wh.resolve("runs/" + RUN + "/_SUCCESS")).toMillis();
        for (Map.Entry<String, List<String>> task : tasks().entrySet()) {
            String[] r = cli(task.getValue());
            assertEquals("0", r[0], "again: " + task.getKey() + ": " + r[1]);
        }
        try (var runs = Files.list(wh.resolve("runs"))) {
            assertEquals(List.of(RUN), runs.map(p -> p.getFileName().toString()).toList(), "no second run");
        }
        assertEquals(trained, Files.getLastModifiedTime(wh.resolve("runs/" + RUN + "/_SUCCESS")).toMillis(), "not retrained");
        assertEquals(1, Files.readAllLines(wh.resolve("models/mnist/promotions.jsonl")).size(), "no second promotion");

        String[] worse = cli(List.of("train", "--warehouse", wh.toString(), "--run-id", "worse", "--epochs", "1",
                "--set", "model.hidden=[{units=4, activation=relu}]", "--set", "train.max-examples=2000"));
        assertEquals("0", worse[0], worse[1]);
        assertEquals("0", cli(List.of("evaluate", "--warehouse", wh.toString(), "--run", "worse"))[0]);
        String[][] refused = new String[1][];
        String said = CliParsingTest.stdout(() -> refused[0] = cli(List.of("promote", "--dataset", "mnist", "--warehouse", wh.toString(),
                "--run", "worse")));
        assertEquals("3", refused[0][0], refused[0][1] + said);
        assertTrue(said.contains("not promoted: run worse has test accuracy"), said);
        assertEquals(RUN, json(wh.resolve("models/mnist/current.json")).path("run_id").asText(), "current unchanged");
        assertEquals(1, Files.readAllLines(wh.resolve("models/mnist/promotions.jsonl")).size());
        String shown = CliParsingTest.stdout(() -> cli(List.of("models", "show", "mnist", "--warehouse", wh.toString())));
        assertTrue(shown.contains("models mnist: current " + RUN), shown);
    }

    @Test
    @Order(2)
    void predictWithTheCurrentModelMatchesItsEvaluationAndAFolderOfPngsGivesTheSameClasses() throws Exception {
        Path out = tmp.resolve("predicted");
        String[] r = cli(List.of("predict", "--dataset", "mnist", "--warehouse", wh.toString(), "--model", "current",
                "--input", LocalSpark.mnistDir().toString(), "--split", "test", "--output", out.toString()));
        assertEquals("0", r[0], r[1]);
        JsonNode summary = json(out.resolve("summary.json"));
        assertEquals(10_000, summary.path("count").asLong());
        assertEquals(0, summary.path("bad").asLong());
        assertEquals(json(wh.resolve("runs/" + RUN + "/evaluation.json")).path("accuracy").asDouble(),
                summary.path("accuracy").asDouble(), 0.0, "the same accuracy as the run's evaluation");
        List<Row> predictions = spark.read().parquet(out.resolve("predictions").toString()).collectAsList();
        assertEquals(10_000, predictions.size());
        Map<Long, Integer> byId = new HashMap<>();
        predictions.forEach(p -> byId.put(p.getLong(p.fieldIndex("id")), p.getInt(p.fieldIndex("predicted"))));
        assertEquals(10, predictions.get(0).getList(predictions.get(0).fieldIndex("probabilities")).size());

        // The first 300 test images as PNG files under their class's folder.
        Path pngs = tmp.resolve("pngs");
        Iterator<Row> rows = spark.read().parquet(wh.resolve("datasets/mnist/raw").toString())
                .where(col("split").equalTo("test")).orderBy("id").limit(300).toLocalIterator();
        while (rows.hasNext()) {
            Row row = rows.next();
            Path file = pngs.resolve(row.getInt(row.fieldIndex("label")) + "/" + row.getLong(row.fieldIndex("id")) + ".png");
            Files.createDirectories(file.getParent());
            writePng((byte[]) row.get(row.fieldIndex("image")), file);
        }
        Path folderOut = tmp.resolve("predicted-pngs");
        String[] f = cli(List.of("predict", "--dataset", "mnist", "--warehouse", wh.toString(), "--input", pngs.toString(),
                "--output", folderOut.toString()));
        assertEquals("0", f[0], f[1]);
        List<Row> fromPngs = spark.read().parquet(folderOut.resolve("predictions").toString()).collectAsList();
        assertEquals(300, fromPngs.size());
        for (Row p : fromPngs) {
            String path = p.getString(p.fieldIndex("path"));
            long id = Long.parseLong(path.substring(path.lastIndexOf('/') + 1, path.length() - 4));
            assertEquals(byId.get(id).intValue(), p.getInt(p.fieldIndex("predicted")), path);
        }
        assertEquals(300, json(folderOut.resolve("summary.json")).path("labelled").asLong(), "labels from the class folders");

        String one = pngs.resolve("7/0.png").toString();
        String top = CliParsingTest.stdout(() -> assertEquals("0", cli(List.of("predict", "--dataset", "mnist", "--warehouse",
                wh.toString(), "--input", one))[0]));
        assertTrue(top.startsWith(one + ": 7 ("), top);
        assertEquals(4, top.strip().lines().count(), "the class and the three most likely: " + top);
    }

    @Test
    @Order(3)
    void badFilesFailNamingTheFirstOrAreSkippedAndListed() throws Exception {
        Path folder = tmp.resolve("mixed");
        Files.createDirectories(folder);
        Iterator<Row> rows = spark.read().parquet(wh.resolve("datasets/mnist/raw").toString())
                .where(col("split").equalTo("test")).orderBy("id").limit(5).toLocalIterator();
        for (int i = 0; rows.hasNext(); i++) {
            writePng((byte[]) rows.next().get(3), folder.resolve("good-" + i + ".png"));
        }
        Files.write(folder.resolve("corrupt.png"), new byte[]{(byte) 0x89, 'P', 'N', 'G', 1, 2, 3, 4, 5});
        BufferedImage small = new BufferedImage(10, 10, BufferedImage.TYPE_BYTE_GRAY);
        ImageIO.write(small, "png", folder.resolve("small.png").toFile());
        Files.writeString(folder.resolve("notes.txt"), "not an image");

        Path failed = tmp.resolve("predicted-fail");
        String[] r = cli(List.of("predict", "--dataset", "mnist", "--warehouse", wh.toString(), "--input", folder.toString(),
                "--output", failed.toString()));
        assertEquals("1", r[0], r[1]);
        assertTrue(r[1].startsWith("imgtrain predict: invalid input: " + folder.toUri().toString().replace("file:///", "file:/")
                + "corrupt.png: "), r[1]);
        assertFalse(Files.exists(failed), "nothing committed");
        try (var left = Files.list(tmp)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith("_predicted-fail")), "no staging left");
        }

        Path skipped = tmp.resolve("predicted-skip");
        String[] s = cli(List.of("predict", "--dataset", "mnist", "--warehouse", wh.toString(), "--input", folder.toString(),
                "--output", skipped.toString(), "--on-bad-image", "skip"));
        assertEquals("0", s[0], s[1]);
        JsonNode summary = json(skipped.resolve("summary.json"));
        assertEquals(5, summary.path("count").asLong());
        assertEquals(3, summary.path("bad").asLong());
        List<String> bad = new ArrayList<>();
        summary.path("bad_images").forEach(b -> bad.add(b.path("path").asText().replaceAll(".*/", "") + ": " + b.path("reason").asText()));
        assertEquals(3, bad.size(), bad.toString());
        assertTrue(bad.get(0).startsWith("corrupt.png: not a"), bad.toString());
        assertEquals("notes.txt: not a PNG or JPEG file name", bad.get(1));
        assertEquals("small.png: 10x10x1 image, the model takes 28x28x1", bad.get(2));
    }

    /**
     * Issue 27: real decompression bombs (valid 40000x40000 grey PNGs of about 1.6 MB that decode to 1.6 GB of pixels)
     * beside good images: predict --on-bad-image skip refuses each from its header and lists it; the folder costs about
     * what its good images alone cost (both figures printed; before the header check each bomb took about 10 s and
     * 1.6 GB of heap), and no OutOfMemoryError appears.
     */
    @Test
    @Order(4)
    void realDecompressionBombsCostAboutWhatAGoodImageCosts() throws Exception {
        Path good = Files.createDirectories(tmp.resolve("good-only"));
        Path mixed = Files.createDirectories(tmp.resolve("with-bombs"));
        Iterator<Row> rows = spark.read().parquet(wh.resolve("datasets/mnist/raw").toString())
                .where(col("split").equalTo("test")).orderBy("id").limit(3).toLocalIterator();
        for (int i = 0; rows.hasNext(); i++) {
            byte[] pixels = (byte[]) rows.next().get(3);
            writePng(pixels, good.resolve("good-" + i + ".png"));
            writePng(pixels, mixed.resolve("good-" + i + ".png"));
        }
        byte[] bomb = dev.imgtrain.testing.ImageFixtures.pngBomb(40000, 40000);
        for (int i = 0; i < 5; i++) {
            Files.write(mixed.resolve("bomb-" + i + ".png"), bomb);
        }
        double[] seconds = new double[2];
        String[][] results = new String[2][];
        Path[] inputs = {good, mixed};
        for (int k = 0; k < 2; k++) {
            long start = System.nanoTime();
            results[k] = cli(List.of("predict", "--dataset", "mnist", "--warehouse", wh.toString(), "--input",
                    inputs[k].toString(), "--output", tmp.resolve("predicted-" + inputs[k].getFileName()).toString(),
                    "--on-bad-image", "skip"));
            seconds[k] = (System.nanoTime() - start) / 1e9;
            assertEquals("0", results[k][0], results[k][1]);
        }
        JsonNode summary = json(tmp.resolve("predicted-with-bombs/summary.json"));
        assertEquals(3, summary.path("count").asLong(), "the good images predicted");
        assertEquals(5, summary.path("bad").asLong());
        summary.path("bad_images").forEach(b -> assertTrue(b.path("reason").asText()
                .startsWith("too large: its PNG header declares 40000x40000 pixels"), b.toString()));
        System.out.printf("RetrainIT: predict --on-bad-image skip: 3 good images %.1f s; the same with 5 bombs of %.1f MB "
                + "(1.6 GB of pixels each) %.1f s%n", seconds[0], bomb.length / 1e6, seconds[1]);
        assertFalse(results[1][1].contains("OutOfMemoryError"), results[1][1]);
        assertTrue(seconds[1] < seconds[0] + 10, "the bombs were refused from their headers, not decoded: " + seconds[1]
                + " s against " + seconds[0] + " s");
    }

    @Test
    void theDagAndItsModuleCompileAndTheModulesTestsPassWithoutAirflow() throws Exception {
        python("-m", "py_compile", DAGS.resolve("imgtrain_retrain.py").toString(), DAGS.resolve("imgtrain_commands.py").toString());
        String out = python("-m", "unittest", "discover", "-v", "-s", S3Server.ROOT.resolve("deploy/airflow/tests").toString());
        java.util.regex.Matcher ran = java.util.regex.Pattern.compile("Ran (\\d+) tests").matcher(out);
        assertTrue(ran.find() && Integer.parseInt(ran.group(1)) >= 10 && out.contains("\nOK"), out);
    }

    private static void writePng(byte[] grey, Path file) throws Exception {
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < grey.length; i++) {
            image.getRaster().setSample(i % 28, i / 28, 0, grey[i] & 0xFF);
        }
        ImageIO.write(image, "png", file.toFile());
    }
}
