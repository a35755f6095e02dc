package dev.imgtrain.train;

import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.model.ModelStore;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The executor-side batch cache ({@code train.batch-cache-mb}) changes where batches come from, not what is trained:
 * runs with the cache off, partly filled and large enough, and with neither cache nor prefetching (batches read into
 * reused arrays), end with the same model and metrics, epoch by epoch.
 */
class BatchCacheIT {
    private static SparkSession spark;
    @TempDir
    static java.nio.file.Path tmp;
    private static Warehouse warehouse;

    @BeforeAll
    static void setUp() {
        spark = LocalSpark.start("batch-cache");
        warehouse = LocalSpark.mnistWarehouse(spark, tmp.resolve("wh"));
    }

    @AfterAll
    static void tearDown() {
        BatchCache.clear();
        spark.stop();
    }

    private static TrainResult train(String runId, int cacheMb) {
        return train(runId, cacheMb, 2);
    }

    private static TrainResult train(String runId, int cacheMb, int prefetch) {
        BatchCache.clear();
        return TrainJob.run(spark, new ConfigLoader()
                .withSetting("train.max-examples=2560").withSetting("train.epochs=3")
                .withSetting("train.averaging-frequency=4").withSetting("train.checkpoints=false")
                .withSetting("train.prefetch=" + prefetch).withSetting("train.batch-cache-mb=" + cacheMb)
                .withFlag("train.run-id", runId).load(), warehouse);
    }

    private static MultiLayerNetwork model(TrainResult r) {
        return ModelStore.load(warehouse, new Path(r.runDir(), "model.zip"));
    }

    private static List<Integer> prefetchPerEpoch(TrainResult r) {
        com.fasterxml.jackson.databind.JsonNode stats = warehouse.readJson(new Path(r.runDir(), "training-stats.json"),
                com.fasterxml.jackson.databind.JsonNode.class);
        List<Integer> out = new java.util.ArrayList<>();
        stats.get("prefetch_per_epoch").forEach(n -> out.add(n.asInt()));
        return out;
    }

    @Test
    void cachedBatchesTrainTheSameModel() {
        TrainResult files = train("no-cache", 0);
        assertEquals(0, BatchCache.size()[0], "batch-cache-mb = 0 caches nothing");

        // 2,560 examples, each 784 + 10 floats, in batches of up to 64 (203,264 bytes; each worker's last one is
        // shorter): 1 MiB holds at least 4 and, when short batches come first, a few more; never more than 1 MiB.
        TrainResult partly = train("cache-1mb", 1);
        long[] held = BatchCache.size();
        assertTrue(held[0] >= 4 && held[0] < 40 && held[1] <= 1 << 20 && held[1] > (1 << 20) - 203_264,
                java.util.Arrays.toString(held));
        assertEquals(2 * held[0], held[2], "only the cached batches come from the cache");

        TrainResult cached = train("cache-all", 1024);
        long[] all = BatchCache.size();
        assertEquals(2560L * (784 + 10) * 4, all[1], "every example once: every batch file, once");
        assertEquals(2 * all[0], all[2], "epochs 2 and 3 read every batch from the cache");

        // Without prefetching, every batch file is read into the arrays of the task thread's last batch.
        TrainResult inPlace = train("no-cache-no-prefetch", 0, 0);
        assertEquals(0, BatchCache.size()[0]);

        // With every batch cached in this (local) JVM after epoch 1, the workers stop prefetching; not otherwise.
        assertEquals(List.of(2, 0, 0), prefetchPerEpoch(cached));
        assertEquals(List.of(2, 2, 2), prefetchPerEpoch(partly));
        assertEquals(List.of(2, 2, 2), prefetchPerEpoch(files));
        assertEquals(List.of(0, 0, 0), prefetchPerEpoch(inPlace));

        for (TrainResult r : List.of(partly, cached, inPlace)) {
            assertEquals(model(files).params(), model(r).params(), r.runId());
            assertEquals(model(files).getUpdater().getStateViewArray(), model(r).getUpdater().getStateViewArray(), r.runId());
            for (int e = 0; e < 3; e++) {
                assertEquals(files.epochs().get(e).valLoss(), r.epochs().get(e).valLoss(), 0.0, r.runId() + " epoch " + (e + 1));
                assertEquals(files.epochs().get(e).loss(), r.epochs().get(e).loss(), 0.0, r.runId() + " epoch " + (e + 1));
                assertEquals(files.epochs().get(e).accuracy(), r.epochs().get(e).accuracy(), 0.0, r.runId() + " epoch " + (e + 1));
            }
        }
        assertTrue(files.epochs().get(2).valAccuracy() > 0.8, "it did learn: " + files.epochs());
    }
}
