package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fashion-MNIST and CIFAR-10 through the same CLI pipeline as MNIST, on the real archives: full ingest (counts, class
 * names, shape), preprocess, one epoch on a subset, evaluation on the whole test split well above chance (0.10).
 */
class RealDatasetsIT {
    private static SparkSession spark;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("real-datasets");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static JsonNode run(String dataset, Path source, String preset, int examples) throws Exception {
        Path wh = tmp.resolve(dataset);
        String[] result = CliParsingTest.execute("run", "--dataset", dataset, "--source", source.toString(),
                "--warehouse", wh.toString(), "--preset", preset, "--epochs", "1", "--run-id", "it",
                "--set", "train.max-examples=" + examples, "--set", "train.checkpoints=false");
        assertEquals("0", result[0], result[1]);
        JsonNode manifest = Warehouse.JSON.readTree(wh.resolve("datasets/" + dataset + "/_dataset.json").toFile());
        JsonNode evaluation = Warehouse.JSON.readTree(wh.resolve("runs/it/evaluation.json").toFile());
        assertEquals(manifest.get("classes"), evaluation.get("classes"));
        return ((com.fasterxml.jackson.databind.node.ObjectNode) manifest).put("accuracy", evaluation.get("accuracy").asDouble());
    }

    @Test
    void fashionMnist() throws Exception {
        JsonNode m = run("fashion-mnist", LocalSpark.fashionDir(), "fashion-dense-512", 10000);
        assertEquals(60000, m.at("/counts/train").asLong());
        assertEquals(10000, m.at("/counts/test").asLong());
        assertEquals("Ankle boot", m.at("/classes/9").asText());
        double accuracy = m.get("accuracy").asDouble();
        assertTrue(accuracy > 0.70, "fashion-mnist accuracy after 1 epoch on 10,000 examples: " + accuracy);
    }

    @Test
    void cifar10() throws Exception {
        JsonNode m = run("cifar10", LocalSpark.cifar10Dir(), "cifar10-dense-32-16", 10000);
        assertEquals(50000, m.at("/counts/train").asLong());
        assertEquals(10000, m.at("/counts/test").asLong());
        assertEquals(List.of(32, 32, 3), List.of(m.at("/shape/0").asInt(), m.at("/shape/1").asInt(), m.at("/shape/2").asInt()));
        assertEquals("airplane", m.at("/classes/0").asText());
        assertEquals("truck", m.at("/classes/9").asText());
        assertEquals("cifar-10-binary.tar.gz", m.at("/sources/0/file").asText());
        assertEquals(1, m.get("sources").size());
        double accuracy = m.get("accuracy").asDouble();
        assertTrue(accuracy > 0.20, "cifar10 accuracy after 1 epoch on 10,000 examples: " + accuracy);
        ReportChecks.assertOpens(tmp.resolve("cifar10/runs/it/report/index.html"), "it", accuracy, "cifar10");
    }

    @Test
    void cifar10JpegFoldersMatchTheBinaryArchiveClassByClass() throws Exception {
        Path wh = tmp.resolve("compare");
        String[] binary = CliParsingTest.execute("ingest", "--dataset", "cifar10", "--source",
                LocalSpark.cifar10Dir().toString(), "--warehouse", wh.toString());
        assertEquals("0", binary[0], binary[1]);
        String[] folder = CliParsingTest.execute("ingest", "--format", "folder", "--dataset", "cifar10-folder",
                "--source", LocalSpark.cifar10JpegDir().toString(), "--warehouse", wh.toString());
        assertEquals("0", folder[0], folder[1]);
        JsonNode b = Warehouse.JSON.readTree(wh.resolve("datasets/cifar10/_dataset.json").toFile());
        JsonNode f = Warehouse.JSON.readTree(wh.resolve("datasets/cifar10-folder/_dataset.json").toFile());
        assertEquals(50000, f.at("/counts/train").asLong());
        assertEquals(10000, f.at("/counts/test").asLong());
        assertEquals(b.get("classes"), f.get("classes"));
        assertEquals(b.get("shape"), f.get("shape"));
        assertEquals(b.get("class_counts"), f.get("class_counts"));
    }
}
