package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code imgtrain bench} on a small slice of real MNIST and the real CIFAR-10 archive: every figure is measured and
 * consistent with the others. No timing is asserted (timings are the benchmark's output, not a test's).
 */
class BenchIT {
    @Test
    void benchMeasuresEveryFigureAndWritesItsJson(@TempDir Path tmp) throws Exception {
        SparkSession spark = LocalSpark.start("bench");
        Path out = tmp.resolve("bench.json");
        try {
            String[] result = CliParsingTest.execute("bench", "--source", LocalSpark.mnistDir().toString(),
                    "--cifar-source", LocalSpark.cifar10Dir().toString(), "--warehouse", tmp.resolve("wh").toString(),
                    "--repeats", "1", "--ingest-warmups", "1", "--set", "train.max-examples=3000", "--target-accuracy", "0.8",
                    "--max-epochs", "3", "--mllib-seconds", "4", "--stream-copies", "2", "--stream-cache-mb", "1",
                    "--out", out.toString());
            assertEquals("0", result[0], result[1]);
        } finally {
            spark.stop();
        }
        JsonNode b = Warehouse.JSON.readTree(out.toFile());
        for (String key : List.of("spark_vs_local_epoch_ratio", "local_epoch_vs_floor_ratio",
                "ingest_vs_gunzip_ratio_mnist", "ingest_vs_gunzip_ratio_cifar10")) {
            assertTrue(b.get(key).asDouble() > 0, key + " in " + b);
        }
        JsonNode m = b.get("medians");
        assertEquals(m.get("spark_epoch_seconds").asDouble() / m.get("local_epoch_seconds").asDouble(),
                b.get("spark_vs_local_epoch_ratio").asDouble(), 1e-9);
        assertEquals(m.get("ingest_cifar10_seconds").asDouble() / m.get("gunzip_cifar10_seconds").asDouble(),
                b.get("ingest_vs_gunzip_ratio_cifar10").asDouble(), 1e-9);
        assertTrue(m.get("matmul_gflops").asDouble() > 0.1, m.toString());
        // The PyTorch peer (issue 18), both thread splits, on the same 3,000 examples; the ratios use the faster split.
        String best = b.get("pytorch_best_split").asText();
        assertTrue(List.of("intra1_blas" + Runtime.getRuntime().availableProcessors(),
                "intra" + Runtime.getRuntime().availableProcessors() + "_blas1").contains(best), b.toString());
        assertEquals(m.get("spark_epoch_seconds").asDouble() / m.get("pytorch_" + best + "_epoch_seconds").asDouble(),
                b.get("spark_vs_pytorch_epoch_ratio").asDouble(), 1e-9);
        assertEquals(m.get("spark_seconds_to_target").asDouble() / m.get("pytorch_" + best + "_seconds_to_target").asDouble(),
                b.get("time_to_98_vs_pytorch_ratio").asDouble(), 1e-9);
        assertTrue(b.get("cifar_spark_vs_pytorch_epoch_ratio").asDouble() > 0, b.toString());
        assertTrue(m.get("pytorch_matmul_gflops").asDouble() > 0.1, m.toString());
        // Data beyond memory: the enlarged set (2 shifted copies of train, written as a dataset) streamed through a
        // 1 MB batch cache, per example against the cached epoch; the driver's live heap after GC was measured.
        assertEquals(m.get("stream_seconds_per_example").asDouble() / m.get("cached_seconds_per_example").asDouble(),
                b.get("stream_vs_cached_per_example_ratio").asDouble(), 1e-9);
        assertEquals(3000, m.get("stream_examples").asLong(), m.toString());
        // The live heap sampled in the streamed epoch, and over its whole run (export included), which holds more.
        assertTrue(m.get("stream_epoch_live_heap_mib").asDouble() > 0, m.toString());
        assertTrue(m.get("stream_epoch_live_heap_mib").asDouble() <= m.get("stream_run_live_heap_mib").asDouble(), m.toString());
        assertTrue(m.get("stream_driver_peak_heap_mib").asDouble() > 0, m.toString());
        JsonNode enlarged = Warehouse.JSON.readTree(tmp.resolve("wh/datasets/mnist-x2/_dataset.json").toFile());
        assertEquals(120_000, enlarged.at("/counts/train").asLong(), enlarged.toString());
        assertEquals(10_000, enlarged.at("/counts/test").asLong(), enlarged.toString());
        JsonNode peerRun = b.at("/pytorch/0/run");
        assertEquals(3000, peerRun.get("train_examples").asInt(), peerRun.toString());
        assertTrue(peerRun.at("/epochs/0/test_accuracy").asDouble() > 0.5, "the peer learns: " + peerRun);
        // The FLOP floor follows from the preset: 2 x the training step's MACs (forward and weight gradient of both
        // layers, input gradient of the second only: the first layer's is never computed) x 3,000 examples at the
        // measured rate.
        double flops = 2.0 * (3 * (784 * 512 + 512 * 10) - 784 * 512) * 3000;
        assertEquals(flops / (m.get("matmul_gflops").asDouble() * 1e9), m.get("floor_epoch_seconds").asDouble(), 1e-9);
        assertEquals(3000, b.get("train_examples").asLong());
        // The preset's own matrix products (3 per layer, 24 batches of 128) and plain DL4J with ND4J's RMSProp op.
        assertTrue(m.get("gemm_epoch_seconds").asDouble() > 0, m.toString());
        assertEquals(m.get("gemm_epoch_seconds").asDouble() / m.get("floor_epoch_seconds").asDouble(),
                b.get("gemm_epoch_vs_floor_ratio").asDouble(), 1e-9);
        assertEquals(m.get("local_epoch_seconds").asDouble() / m.get("gemm_epoch_seconds").asDouble(),
                b.get("local_epoch_vs_gemm_ratio").asDouble(), 1e-9);
        assertTrue(m.get("local_epoch_nd4j_updater_seconds").asDouble() > 0, m.toString());
        assertTrue(m.get("local_epoch_dl4j_layers_seconds").asDouble() > 0, m.toString());
        // One warm-up ingest of each archive: its time is the cold figure.
        assertTrue(m.get("ingest_mnist_cold_seconds").asDouble() > 0, m.toString());
        assertTrue(m.get("ingest_cifar10_cold_seconds").asDouble() > 0, m.toString());
        // Time to the target: 3,000 examples reach 0.8 within 3 epochs on both sides; the ratio is of the medians.
        assertEquals(m.get("spark_seconds_to_target").asDouble() / m.get("local_seconds_to_target").asDouble(),
                b.get("time_to_98_vs_local_ratio").asDouble(), 1e-9);
        JsonNode sparkRun = b.at("/convergence/0/spark");
        int epochs = sparkRun.get("epochs_to_target").asInt();
        assertTrue(epochs >= 1 && epochs <= 3, sparkRun.toString());
        assertTrue(sparkRun.at("/accuracy/" + (epochs - 1)).asDouble() >= 0.8, sparkRun.toString());
        assertEquals(epochs, sparkRun.get("accuracy").size(), "training stopped at the target: " + sparkRun);
        double sum = b.at("/convergence/0/plain_load_seconds").asDouble();
        JsonNode plain = b.at("/convergence/0/plain");
        for (int e = 0; e < plain.get("epochs_to_target").asInt(); e++) {
            sum += plain.at("/epoch_seconds/" + e).asDouble();
        }
        assertEquals(sum, m.get("local_seconds_to_target").asDouble(), 1e-9);
        // MLlib's perceptron: native BLAS, some iterations, an accuracy.
        JsonNode mllib = b.get("mllib");
        assertEquals("dev.ludovic.netlib.blas.JNIBLAS", mllib.get("blas").asText(), mllib.toString());
        assertTrue(mllib.get("iterations").asInt() >= 1, mllib.toString());
        assertTrue(mllib.get("seconds").asDouble() <= 4 || mllib.get("iterations").asInt() == 1,
                "the reported fit stayed within the 4 s budget: " + mllib);
        double acc = b.get("mllib_accuracy_at_equal_time").asDouble();
        assertTrue(acc > 0 && acc <= 1, mllib.toString());
        assertTrue(b.at("/machine/cores").asInt() >= 1);
    }
}
