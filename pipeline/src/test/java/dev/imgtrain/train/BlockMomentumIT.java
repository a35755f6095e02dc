package dev.imgtrain.train;

import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Block momentum in real runs (2 workers, local Spark, a 6,000-example MNIST subset, 8 averaging rounds per epoch):
 * it changes training, saves its state beside every checkpoint, and a run killed after epoch 2 resumes to the very
 * same epoch 3 as the uninterrupted run; a checkpoint whose state file is gone is refused, naming the file.
 */
class BlockMomentumIT {
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static Warehouse warehouse;
    private static Path wh;

    @BeforeAll
    static void setUp() {
        spark = LocalSpark.start("block-momentum");
        wh = tmp.resolve("wh");
        warehouse = LocalSpark.mnistWarehouse(spark, wh);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    private static TrainResult train(String runId, String momentum) {
        return TrainJob.run(spark, new ConfigLoader().withSetting("train.max-examples=6000")
                .withSetting("train.averaging-frequency=6").withSetting("train.workers=2").withSetting("train.epochs=3")
                .withSetting("train.block-momentum=" + momentum).withSetting("train.block-nesterov=false")
                .withFlag("train.run-id", runId).load(), warehouse);
    }

    private static org.apache.hadoop.fs.Path hadoop(Path run, String file) {
        return new org.apache.hadoop.fs.Path(run.resolve(file).toUri());
    }

    /** Deletes through Hadoop's local file system, which also deletes the files' .crc. */
    private static void delete(Path run, String... files) {
        for (String file : files) {
            assertTrue(Files.exists(run.resolve(file)), file);
            warehouse.delete(hadoop(run, file));
        }
    }

    @Test
    void momentumChangesTrainingAndAKilledRunResumesToTheSameEpoch() throws Exception {
        List<EpochMetrics> plain = train("plain", "0").epochs();
        List<EpochMetrics> momentum = train("momentum", "auto").epochs();
        assertEquals(3, momentum.size());
        assertNotEquals(plain.get(2).valLoss(), momentum.get(2).valLoss(), "block momentum 0.5 changes the model");
        assertTrue(momentum.get(2).valAccuracy() > 0.85, "it still learns: " + momentum);
        Path run = wh.resolve("runs/momentum");
        for (int epoch = 1; epoch <= 3; epoch++) {
            assertEquals(8 + 4 * 407_050L, Files.size(run.resolve("checkpoints/epoch-" + epoch + ".block-momentum.bin")));
        }
        assertTrue(Files.notExists(wh.resolve("runs/plain/checkpoints/epoch-1.block-momentum.bin")), "none without momentum");

        // As a kill after epoch 2 leaves it: no commit, no epoch 3, two metrics lines.
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        delete(run, "_SUCCESS", "model.zip", "checkpoints/epoch-3.zip", "checkpoints/epoch-3.block-momentum.bin");
        warehouse.writeText(hadoop(run, "metrics.jsonl"), String.join("\n", lines.subList(0, 2)) + "\n");
        EpochMetrics resumed = train("momentum", "auto").epochs().get(2);
        assertEquals(momentum.get(2).valLoss(), resumed.valLoss(), "epoch 3 after the resume is epoch 3 uninterrupted");
        assertEquals(momentum.get(2).valAccuracy(), resumed.valAccuracy());
        assertEquals(momentum.get(2).loss(), resumed.loss());

        delete(run, "_SUCCESS", "model.zip", "checkpoints/epoch-3.zip", "checkpoints/epoch-2.block-momentum.bin");
        warehouse.writeText(hadoop(run, "metrics.jsonl"), String.join("\n", lines.subList(0, 2)) + "\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> train("momentum", "auto"));
        assertTrue(e.getMessage().contains("epoch-2.block-momentum.bin is missing") && e.getMessage().contains("--fresh"),
                e.getMessage());
    }
}
