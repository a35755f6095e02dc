package dev.imgtrain.train;

import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.evaluate.EvaluateJob;
import dev.imgtrain.model.ModelStore;
import dev.imgtrain.report.ReportJob;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 28: Keras' callbacks on real MNIST. mnist-dense-512 on 6,000 training examples overfits within a few epochs
 * (val_loss, on the test split here, turns up while the training loss keeps falling): early stopping with
 * restore-best-weights stops it and commits the best epoch's weights, whose evaluation equals that epoch's val figures;
 * reduce-lr-on-plateau lowers the learning rate when val_loss stalls; a run killed with both active resumes to the
 * same model, bit for bit, as the uninterrupted one.
 */
class CallbacksIT {
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static Warehouse warehouse;
    private static Path wh;

    @BeforeAll
    static void setUp() {
        spark = LocalSpark.start("callbacks");
        wh = tmp.resolve("wh");
        warehouse = LocalSpark.mnistWarehouse(spark, wh);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    private static ConfigLoader overfitting(String runId) {
        return new ConfigLoader().withSetting("train.max-examples=6000").withSetting("train.averaging-frequency=6")
                .withSetting("train.workers=2").withSetting("train.epochs=30").withFlag("train.run-id", runId)
                // A constant rate (the seeds' 0.001, not the preset's schedule): only the callbacks change it here.
                .withSetting("model.updater.learning-rate=0.001").withSetting("model.lr-decay.enabled=false");
    }

    private static List<EpochMetrics> metrics(String runId) throws Exception {
        return Files.readAllLines(wh.resolve("runs/" + runId + "/metrics.jsonl")).stream().filter(l -> !l.isBlank())
                .map(EpochMetrics::parse).toList();
    }

    @Test
    void earlyStoppingStopsAnOverfittingRunAndCommitsTheBestEpochsWeights() throws Exception {
        TrainResult result = TrainJob.run(spark, overfitting("early").withSetting("train.early-stopping.enabled=true")
                .withSetting("train.early-stopping.patience=3")
                .withSetting("train.early-stopping.restore-best-weights=true").load(), warehouse);
        List<EpochMetrics> epochs = metrics("early");
        assertEquals(result.epochs(), epochs);
        EpochMetrics last = epochs.get(epochs.size() - 1);
        int best = 1;
        for (EpochMetrics m : epochs) {
            if (m.valLoss() < epochs.get(best - 1).valLoss()) {
                best = m.epoch();
            }
        }
        System.out.printf("CallbacksIT: early stopping after epoch %d of 30 (best val_loss %.4f at epoch %d, last %.4f)%n",
                last.epoch(), epochs.get(best - 1).valLoss(), best, last.valLoss());
        assertTrue(last.epoch() < 30, "it stopped early: " + epochs);
        assertEquals(best + 3, last.epoch(), "three epochs without improvement after the best");
        assertEquals(String.format("early stopping: val_loss did not improve by more than 0 for 3 epochs (best %.4f at epoch %d)",
                epochs.get(best - 1).valLoss(), best), last.stopReason());
        assertEquals(best, last.restoredEpoch());
        epochs.subList(0, epochs.size() - 1).forEach(m -> assertNull(m.stopReason()));
        epochs.forEach(m -> assertEquals(0.001, m.lr(), "the preset's learning rate, unchanged"));

        // The committed model is the best epoch's: evaluated on the test split (the validation split of this run), its
        // figures are that epoch's val figures.
        var evaluation = EvaluateJob.run(spark, warehouse, "early", 1024);
        assertEquals(epochs.get(best - 1).valAccuracy(), evaluation.accuracy(), 1e-9);
        assertEquals(epochs.get(best - 1).valLoss(), evaluation.loss(), 1e-5);
        assertEquals(ModelStore.load(warehouse, new org.apache.hadoop.fs.Path(wh.resolve("runs/early/checkpoints/epoch-"
                + best + ".zip").toUri())).params(), ModelStore.load(warehouse,
                new org.apache.hadoop.fs.Path(wh.resolve("runs/early/model.zip").toUri())).params());
        // The report says where and why it stopped, and which epoch the model is.
        ReportJob.run(spark, warehouse, "early", 1024);
        String page = Files.readString(wh.resolve("runs/early/report/index.html"));
        assertTrue(page.contains("Training stopped after epoch " + last.epoch() + ": early stopping: val_loss did not improve")
                && page.contains("The model has the weights of epoch " + best + " (restore-best-weights)"), page);
        assertTrue(page.contains("<th>lr</th>"), "the history shows each epoch's learning rate");
    }

    @Test
    void reduceLrOnPlateauLowersTheLearningRateWhenValLossStalls() throws Exception {
        TrainJob.run(spark, overfitting("plateau").withSetting("train.epochs=10")
                .withSetting("train.reduce-lr-on-plateau.enabled=true").withSetting("train.reduce-lr-on-plateau.patience=2")
                .withSetting("train.reduce-lr-on-plateau.factor=0.5").withSetting("train.keep-checkpoints=last").load(),
                warehouse);
        List<EpochMetrics> epochs = metrics("plateau");
        assertEquals(10, epochs.size());
        // Recomputed here from val_loss: after 2 epochs without an improvement of more than 1e-4 the rate halves.
        List<Double> expected = new ArrayList<>();
        double lr = 0.001;
        double best = Double.POSITIVE_INFINITY;
        int wait = 0;
        for (EpochMetrics m : epochs) {
            expected.add(lr);
            if (m.valLoss() < best - 1e-4) {
                best = m.valLoss();
                wait = 0;
            } else if (++wait >= 2) {
                lr /= 2;
                wait = 0;
            }
        }
        System.out.println("CallbacksIT: learning rate per epoch with reduce-lr-on-plateau: "
                + epochs.stream().map(EpochMetrics::lr).toList());
        assertEquals(expected, epochs.stream().map(EpochMetrics::lr).toList());
        assertTrue(epochs.get(9).lr() < 0.001, "val_loss stalled and the rate went down: " + expected);
        // keep-checkpoints = last: only the last epoch's checkpoint stays.
        try (Stream<Path> files = Files.list(wh.resolve("runs/plateau/checkpoints"))) {
            assertEquals(List.of("epoch-10.zip"), files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".zip")).sorted().toList());
        }
    }

    @Test
    void aKilledRunWithBothCallbacksResumesToTheSameModel() throws Exception {
        ConfigLoader both = overfitting("whole").withSetting("train.early-stopping.enabled=true")
                .withSetting("train.early-stopping.patience=4").withSetting("train.early-stopping.restore-best-weights=true")
                .withSetting("train.reduce-lr-on-plateau.enabled=true").withSetting("train.reduce-lr-on-plateau.patience=1")
                .withSetting("train.reduce-lr-on-plateau.factor=0.5");
        TrainJob.run(spark, both.load(), warehouse);
        List<EpochMetrics> whole = metrics("whole");
        int firstChange = 0;
        for (EpochMetrics m : whole) {
            if (m.lr() < 0.001) {
                firstChange = m.epoch();
                break;
            }
        }
        assertTrue(firstChange > 1 && firstChange < whole.size(), "the rate changed before the run stopped: " + whole);
        assertNotNull(whole.get(whole.size() - 1).stopReason());

        // The same run dies in the epoch after the first with the lowered rate (an exception from the gate TrainJob asks
        // after each epoch, before that epoch's metrics and checkpoint are written): it left checkpoints up to there.
        both.withFlag("train.run-id", "killed");
        int dieAt = firstChange + 1;
        Exception died = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () ->
                TrainJob.run(spark, both.load(), warehouse, (runId, m) -> {
                    if (m.epoch() == dieAt) {
                        throw new IllegalStateException("killed in epoch " + dieAt);
                    }
                    return null;
                }));
        assertEquals("killed in epoch " + dieAt, died.getMessage());
        Path killed = wh.resolve("runs/killed");
        assertEquals(firstChange, metrics("killed").size());
        assertTrue(Files.notExists(killed.resolve("_SUCCESS")));
        TrainJob.run(spark, both.load(), warehouse);
        List<EpochMetrics> resumed = metrics("killed");
        System.out.printf("CallbacksIT: killed after epoch %d (the first with lr %s), resumed: stopped after epoch %d as "
                + "the uninterrupted run (%d)%n", firstChange, whole.get(firstChange - 1).lr(),
                resumed.get(resumed.size() - 1).epoch(), whole.get(whole.size() - 1).epoch());
        assertEquals(whole.stream().map(EpochMetrics::lr).toList(), resumed.stream().map(EpochMetrics::lr).toList());
        assertEquals(whole.stream().map(EpochMetrics::valLoss).toList(), resumed.stream().map(EpochMetrics::valLoss).toList());
        assertEquals(whole.get(whole.size() - 1).stopReason(), resumed.get(resumed.size() - 1).stopReason());
        assertEquals(whole.get(whole.size() - 1).restoredEpoch(), resumed.get(resumed.size() - 1).restoredEpoch());
        float[] a = ModelStore.load(warehouse, new org.apache.hadoop.fs.Path(wh.resolve("runs/whole/model.zip").toUri()))
                .params().toFloatVector();
        float[] b = ModelStore.load(warehouse, new org.apache.hadoop.fs.Path(killed.resolve("model.zip").toUri()))
                .params().toFloatVector();
        assertArrayEquals(a, b, "the resumed run's model equals the uninterrupted one's");
    }
}
