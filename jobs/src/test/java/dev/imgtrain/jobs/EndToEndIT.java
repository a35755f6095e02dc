package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import dev.imgtrain.train.MiniBatches;
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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real MNIST through the CLI: ingest → preprocess → train 1 epoch on 5,000 examples with 2 workers → model.zip →
 * evaluate; then the model is reloaded from model.zip in this JVM and evaluated without Spark: same accuracy.
 */
class EndToEndIT {
    private static SparkSession spark;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("end-to-end");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void runOnARealMnistSubsetThenReloadAndEvaluate() throws Exception {
        Path wh = tmp.resolve("wh");
        String[] result = CliParsingTest.execute("run", "--source", LocalSpark.mnistDir().toString(),
                "--warehouse", wh.toString(), "--epochs", "1", "--workers", "2", "--run-id", "e2e",
                "--set", "train.max-examples=5000");
        assertEquals("0", result[0], result[1]);

        Path run = wh.resolve("runs/e2e");
        for (String file : List.of("params.json", "metrics.jsonl", "model.zip", "checkpoints/epoch-1.zip",
                "evaluation.json", "_SUCCESS")) {
            assertTrue(Files.isRegularFile(run.resolve(file)), file);
        }
        JsonNode evaluation = Warehouse.JSON.readTree(run.resolve("evaluation.json").toFile());
        double accuracy = evaluation.get("accuracy").asDouble();
        assertTrue(accuracy > 0.85, "accuracy " + accuracy);
        assertEquals(10_000, evaluation.get("examples").asLong());
        long confusionTotal = 0;
        for (JsonNode row : evaluation.get("confusion_matrix")) {
            for (JsonNode cell : row) {
                confusionTotal += cell.asLong();
            }
        }
        assertEquals(10_000, confusionTotal);

        JsonNode metrics = Warehouse.JSON.readTree(Files.readAllLines(run.resolve("metrics.jsonl")).get(0));
        assertEquals(1, metrics.get("epoch").asInt());
        for (String key : List.of("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds", "examples_per_second")) {
            assertTrue(metrics.get(key).asDouble() > 0, key);
        }
        assertEquals(5000, metrics.get("examples").asLong(), "the epoch's examples, both workers");
        assertTrue(metrics.get("accuracy").asDouble() > 0.7 && metrics.get("accuracy").asDouble() < 1, metrics.toString());

        for (String file : ReportChecks.FILES) {
            assertTrue(Files.size(run.resolve("report").resolve(file)) > 1000, "report/" + file);
        }
        ReportChecks.assertOpens(run.resolve("report/index.html"), "e2e", accuracy, "mnist-e2e");
        String[][] shown = new String[1][];
        String printed = CliParsingTest.stdout(() -> shown[0] = CliParsingTest.execute("runs", "show", "e2e", "--warehouse", wh.toString()));
        assertEquals("0", shown[0][0], shown[0][1]);
        assertTrue(printed.contains("report: " + run.resolve("report/index.html").toUri().toString().replace("file:///", "file:/")),
                printed);
        assertTrue(printed.contains("epoch    loss  accuracy  val_loss  val_accuracy"), printed);
        JsonNode params = Warehouse.JSON.readTree(run.resolve("params.json").toFile());
        assertEquals(5000, params.at("/config/train/max-examples").asInt());
        assertEquals(0, params.at("/config/train/averaging-frequency").asInt(), "configured: the preset's");
        assertEquals(235, params.at("/training/averaging_frequency").asInt(), "used: mnist-dense-512's");
        assertEquals(64, params.at("/training/batch_size_per_worker").asInt(), "used: the preset's 128 over 2 workers");
        assertEquals(4, params.get("dataset_sources").size());
        assertEquals(64, params.at("/dataset_sources/0/sha256").asText().length());
        assertTrue(params.at("/versions/spark").asText().startsWith("3.5"));

        // report of a missing run, and of one whose training did not finish: exit 1, one line naming the run
        String[] missing = CliParsingTest.execute("report", "--run", "nope", "--warehouse", wh.toString());
        assertEquals("1", missing[0], missing[1]);
        assertTrue(missing[1].startsWith("imgtrain report: failed: run 'nope' is not a committed run"), missing[1]);
        Files.createDirectories(wh.resolve("runs/half"));
        Files.copy(run.resolve("params.json"), wh.resolve("runs/half/params.json"));
        String[] half = CliParsingTest.execute("report", "--run", "half", "--warehouse", wh.toString());
        assertEquals("1", half[0], half[1]);
        assertTrue(half[1].startsWith("imgtrain report: failed: run 'half' is not a committed run"), half[1]);
        assertEquals(2, half[1].strip().split("\n").length, "one line and the debug hint: " + half[1]);
        assertTrue(!Files.exists(wh.resolve("runs/half/report")), "nothing written for an uncommitted run");

        MultiLayerNetwork reloaded = ModelSerializer.restoreMultiLayerNetwork(run.resolve("model.zip").toFile(), true);
        List<MiniBatches.Example> test = MiniBatches.exampleRdd(spark.read().parquet(wh.resolve("datasets/mnist/features").toString())
                .where(col("split").equalTo("test"))).collect();
        Evaluation local = new Evaluation(10);
        Iterator<DataSet> batches = MiniBatches.batches(test.iterator(), 1000);
        while (batches.hasNext()) {
            DataSet batch = batches.next();
            local.eval(batch.getLabels(), reloaded.output(batch.getFeatures(), false));
        }
        assertEquals(accuracy, local.accuracy(), 1e-12, "model.zip reloaded gives the stored accuracy");
    }
}
