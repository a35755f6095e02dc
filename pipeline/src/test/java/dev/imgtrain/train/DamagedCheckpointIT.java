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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A killed run whose last checkpoint was then damaged (a bit flipped: caught by the recorded SHA-256 where the file
 * system keeps no checksum, as on S3, and by Hadoop's .crc where it does) resumes from the checkpoint before it and
 * ends with the uninterrupted run's epoch 3, each epoch in metrics.jsonl once; with every checkpoint damaged it
 * starts over from epoch 1.
 */
class DamagedCheckpointIT {
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static Warehouse warehouse;
    private static Path wh;

    @BeforeAll
    static void setUp() {
        spark = LocalSpark.start("damaged-checkpoint");
        wh = tmp.resolve("wh");
        warehouse = LocalSpark.mnistWarehouse(spark, wh);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    private static TrainResult train(String runId) {
        return TrainJob.run(spark, new ConfigLoader().withSetting("train.max-examples=6000")
                .withSetting("train.averaging-frequency=6").withSetting("train.workers=2").withSetting("train.epochs=3")
                .withFlag("train.run-id", runId).load(), warehouse);
    }

    private static org.apache.hadoop.fs.Path hadoop(Path run, String file) {
        return new org.apache.hadoop.fs.Path(run.resolve(file).toUri());
    }

    /** As a kill after epoch 3's checkpoint leaves a run: no model.zip, no _SUCCESS. */
    private static void kill(Path run) {
        for (String file : List.of("_SUCCESS", "model.zip")) {
            warehouse.delete(hadoop(run, file));
        }
    }

    private static void flipABit(Path file, boolean keepCrc) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x04;
        Files.write(file, bytes);
        if (!keepCrc) {
            Files.deleteIfExists(file.resolveSibling("." + file.getFileName() + ".crc"));
        }
    }

    private static List<Integer> epochsInMetrics(Path run) throws Exception {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().filter(l -> !l.isBlank())
                .map(l -> EpochMetrics.parse(l).epoch()).toList();
    }

    @Test
    void aDamagedLastCheckpointIsPassedOverAndTheRunEndsAsIfUndisturbed() throws Exception {
        List<EpochMetrics> undisturbed = train("r").epochs();
        Path run = wh.resolve("runs/r");
        kill(run);
        flipABit(run.resolve("checkpoints/epoch-3.zip"), false); // the digest catches it
        List<EpochMetrics> resumed = train("r").epochs();
        assertEquals(List.of(1, 2, 3), epochsInMetrics(run), "each epoch once");
        assertEquals(undisturbed.get(2).valLoss(), resumed.get(2).valLoss(), "epoch 3 trained again from epoch 2");
        assertEquals(undisturbed.get(2).valAccuracy(), resumed.get(2).valAccuracy());
        assertTrue(Files.exists(run.resolve("_SUCCESS")));

        kill(run);
        flipABit(run.resolve("checkpoints/epoch-3.zip"), true); // Hadoop's .crc catches it
        assertEquals(undisturbed.get(2).valLoss(), train("r").epochs().get(2).valLoss());
        assertEquals(List.of(1, 2, 3), epochsInMetrics(run));
    }

    @Test
    void everyCheckpointDamagedStartsOver() throws Exception {
        List<EpochMetrics> undisturbed = train("all-bad").epochs();
        Path run = wh.resolve("runs/all-bad");
        kill(run);
        for (int epoch = 1; epoch <= 3; epoch++) {
            flipABit(run.resolve("checkpoints/epoch-" + epoch + ".zip"), false);
        }
        List<EpochMetrics> again = train("all-bad").epochs();
        assertEquals(List.of(1, 2, 3), epochsInMetrics(run));
        assertEquals(undisturbed.get(0).valLoss(), again.get(0).valLoss(), "trained from epoch 1, the same seed");
        assertEquals(undisturbed.get(2).valLoss(), again.get(2).valLoss());
    }
}
