package dev.imgtrain.bench;

import dev.imgtrain.datasets.Cifar10Archive;
import dev.imgtrain.model.NetworkFactory;
import dev.imgtrain.config.NetworkSpec;
import dev.imgtrain.train.MiniBatches;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.apache.spark.sql.functions.col;

/** The single measurements behind {@code imgtrain bench}: each returns seconds or a rate, nothing else. */
public final class Benchmarks {
    private Benchmarks() {
    }

    /**
     * ND4J's float32 matrix product rate on n×n operands with BLAS on {@code threads} threads, GFLOP/s (best of
     * {@code reps} after two warm-ups).
     */
    public static double matmulGflops(int n, int reps, int threads) {
        return withThreads(threads, () -> {
            INDArray a = Nd4j.rand(DataType.FLOAT, n, n);
            INDArray b = Nd4j.rand(DataType.FLOAT, n, n);
            INDArray c = Nd4j.create(DataType.FLOAT, n, n);
            a.mmuli(b, c);
            a.mmuli(b, c);
            double best = Double.MAX_VALUE;
            for (int r = 0; r < reps; r++) {
                long start = System.nanoTime();
                a.mmuli(b, c);
                best = Math.min(best, (System.nanoTime() - start) / 1e9);
            }
            return 2.0 * n * n * n / best / 1e9;
        });
    }

    /**
     * Runs {@code body} with ND4J on {@code threads} threads: its own ops' threads and its BLAS library's (OpenBLAS
     * reads OMP_NUM_THREADS once, at load, and bin/imgtrain sets that to 1 for the Spark workers, which are threads of
     * one JVM), then puts both back.
     */
    static <T> T withThreads(int threads, java.util.function.Supplier<T> body) {
        int before = Nd4j.getEnvironment().maxThreads();
        int beforeMaster = Nd4j.getEnvironment().maxMasterThreads();
        int beforeBlas = Nd4j.factory().blas().getMaxThreads();
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
        try {
            return body.get();
        } finally {
            Nd4j.getEnvironment().setMaxThreads(before);
            Nd4j.getEnvironment().setMaxMasterThreads(beforeMaster);
            Nd4j.factory().blas().setMaxThreads(beforeBlas);
        }
    }

    /**
     * Seconds per epoch that plain DL4J's matrix products alone take on the preset's own shapes (ND4J and BLAS on
     * {@code threads} threads): for each dense layer (in → out) and a batch of {@code batch}, the forward product
     * [batch×in]·[in×out], the weight gradient inputᵀ·delta ([in×batch]·[batch×out], the transposed operand as DL4J's
     * {@code BaseLayer.backpropGradient} passes it) and, for every layer but the first (whose input gradient imgtrain's
     * first layer leaves out, as PyTorch's autograd does), the input gradient W·deltaᵀ ([in×out]·[out×batch]), each
     * the best of {@code reps} after warm-up, summed, times the number of batches in {@code examples}. The FLOP floor assumes the
     * 2048³ rate for all of them; this is what the same products cost at their real shapes.
     */
    public static double gemmEpochSeconds(NetworkSpec spec, int inputs, int classes, int batch, long examples,
                                          int reps, int threads) {
        return withThreads(threads, () -> {
            List<int[]> layers = new ArrayList<>();
            int in = inputs;
            for (NetworkSpec.Hidden h : spec.hidden()) {
                layers.add(new int[]{in, h.units()});
                in = h.units();
            }
            layers.add(new int[]{in, classes});
            double perBatch = 0;
            boolean first = true;
            for (int[] l : layers) {
                INDArray x = Nd4j.rand(DataType.FLOAT, batch, l[0]);
                INDArray w = Nd4j.rand(DataType.FLOAT, l[0], l[1]);
                INDArray delta = Nd4j.rand(DataType.FLOAT, batch, l[1]);
                INDArray z = Nd4j.create(DataType.FLOAT, new long[]{batch, l[1]}, 'f');
                INDArray dw = Nd4j.create(DataType.FLOAT, new long[]{l[0], l[1]}, 'f');
                INDArray eps = Nd4j.create(DataType.FLOAT, new long[]{l[0], batch}, 'f');
                perBatch += best(reps, () -> x.mmuli(w, z));
                perBatch += best(reps, () -> Nd4j.gemm(x, delta, dw, true, false, 1.0, 0.0));
                if (!first) {
                    perBatch += best(reps, () -> w.mmuli(delta.transpose(), eps));
                }
                first = false;
            }
            return perBatch * Math.ceil((double) examples / batch);
        });
    }

    /** Best wall time of {@code op} over {@code reps} runs, after a few warm-up runs. */
    private static double best(int reps, Runnable op) {
        for (int i = 0; i < 5; i++) {
            op.run();
        }
        double best = Double.MAX_VALUE;
        for (int r = 0; r < reps; r++) {
            long start = System.nanoTime();
            op.run();
            best = Math.min(best, (System.nanoTime() - start) / 1e9);
        }
        return best;
    }

    /**
     * Multiply-accumulates of one example's training step: the forward product and the weight gradient of every layer,
     * and the input gradient of every layer but the first (nothing needs the gradient of the examples themselves).
     */
    public static long trainingMacsPerExample(NetworkSpec spec, int inputs, int classes) {
        int firstOut = spec.hidden().isEmpty() ? classes : spec.hidden().get(0).units();
        return 3 * macsPerExample(spec, inputs, classes) - (long) inputs * firstOut;
    }

    /** Multiply-accumulates of one example's forward pass through the dense network. */
    public static long macsPerExample(NetworkSpec spec, int inputs, int classes) {
        long macs = 0;
        int in = inputs;
        for (NetworkSpec.Hidden h : spec.hidden()) {
            macs += (long) in * h.units();
            in = h.units();
        }
        return macs + (long) in * classes;
    }

    /**
     * The train split of a features table, in memory on the driver, as mini-batches of {@code batchSize}, the examples
     * shuffled by the same seeded hash as imgtrain's batch files.
     */
    public static List<DataSet> trainBatches(SparkSession spark, String featuresDir, int batchSize, int maxExamples,
                                             long seed) {
        var train = spark.read().parquet(featuresDir).where(col("split").equalTo("train")).orderBy(col("id"));
        if (maxExamples > 0) {
            train = train.limit(maxExamples);
        }
        // Shuffled by the same seeded hash as imgtrain's mini-batch files (MiniBatches.export), not in archive order.
        return inMemory(train.orderBy(MiniBatches.shuffleKey(seed)), batchSize);
    }

    /** The test split of a features table, in memory on the driver, as batches of {@code batchSize}. */
    public static List<DataSet> testBatches(SparkSession spark, String featuresDir, int batchSize) {
        return inMemory(spark.read().parquet(featuresDir).where(col("split").equalTo("test")).orderBy(col("id")), batchSize);
    }

    /** The rows of a features frame, in its order, collected to the driver as mini-batches of {@code batchSize}. */
    private static List<DataSet> inMemory(org.apache.spark.sql.Dataset<Row> rows, int batchSize) {
        List<DataSet> batches = new ArrayList<>();
        MiniBatches.batches(MiniBatches.exampleRdd(rows).collect().iterator(), batchSize).forEachRemaining(batches::add);
        return batches;
    }

    /** Per-epoch training seconds and test accuracy of a run, and the seconds until it first reached a target. */
    public record Convergence(double[] epochSeconds, double[] accuracy, double target, double secondsToTarget,
                              int epochsToTarget) {
    }

    /**
     * Plain single-process DL4J trained epoch by epoch on in-memory batches (ND4J and BLAS on {@code threads} threads) until
     * the test accuracy reaches {@code target} or {@code maxEpochs} pass; the batch order is reshuffled (seeded) every
     * epoch, as DL4J's random splits reorder imgtrain's batch files. Evaluation after each epoch is not timed.
     * {@code secondsToTarget} is NaN when the target was not reached.
     */
    public static Convergence plainTimeToAccuracy(NetworkSpec spec, int inputs, int classes, long seed,
                                                  List<DataSet> train, List<DataSet> test, int threads,
                                                  double target, int maxEpochs) {
        return withThreads(threads, () -> {
            MultiLayerNetwork net = NetworkFactory.network(spec, inputs, classes, seed);
            List<Double> seconds = new ArrayList<>();
            List<Double> accuracy = new ArrayList<>();
            double elapsed = 0;
            List<DataSet> order = new ArrayList<>(train);
            java.util.Random random = new java.util.Random(seed);
            for (int e = 0; e < maxEpochs; e++) {
                java.util.Collections.shuffle(order, random);
                long start = System.nanoTime();
                net.fit(new ExistingDataSetIterator(order));
                double s = (System.nanoTime() - start) / 1e9;
                elapsed += s;
                seconds.add(s);
                org.nd4j.evaluation.classification.Evaluation eval = new org.nd4j.evaluation.classification.Evaluation(classes);
                for (DataSet b : test) {
                    eval.eval(b.getLabels(), net.output(b.getFeatures(), false));
                }
                accuracy.add(eval.accuracy());
                if (eval.accuracy() >= target) {
                    return new Convergence(toArray(seconds), toArray(accuracy), target, elapsed, e + 1);
                }
            }
            return new Convergence(toArray(seconds), toArray(accuracy), target, Double.NaN, -1);
        });
    }

    /** The same figures from an imgtrain run's per-epoch metrics (its validation is the test split by default). */
    public static Convergence fromEpochs(List<dev.imgtrain.train.EpochMetrics> epochs, double setupSeconds, double target) {
        double[] seconds = epochs.stream().mapToDouble(dev.imgtrain.train.EpochMetrics::epochSeconds).toArray();
        double[] accuracy = epochs.stream().mapToDouble(dev.imgtrain.train.EpochMetrics::valAccuracy).toArray();
        double elapsed = setupSeconds;
        for (int e = 0; e < seconds.length; e++) {
            elapsed += seconds[e];
            if (accuracy[e] >= target) {
                return new Convergence(seconds, accuracy, target, elapsed, e + 1);
            }
        }
        return new Convergence(seconds, accuracy, target, Double.NaN, -1);
    }

    private static double[] toArray(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Seconds to gunzip and read every byte of the given files (the floor an ingest is compared with). */
    public static double gunzipSeconds(List<Path> files) throws IOException {
        long start = System.nanoTime();
        byte[] buffer = new byte[1 << 16];
        for (Path f : files) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(f), 1 << 16)) {
                while (in.read(buffer) > 0) {
                    // read and drop
                }
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** Seconds to gunzip the CIFAR-10 archive and read every member's bytes through the tar stream. */
    public static double gunzipTarSeconds(Path archive) throws IOException {
        long start = System.nanoTime();
        byte[] buffer = new byte[1 << 16];
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new GZIPInputStream(Files.newInputStream(archive), 1 << 16))) {
            for (TarArchiveEntry e; (e = tar.getNextTarEntry()) != null; ) {
                while (tar.read(buffer) > 0) {
                    // read and drop
                }
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** The CIFAR-10 archive inside a source directory, or the source itself when it is the file. */
    public static Path cifarArchive(Path source) {
        return Files.isDirectory(source) ? source.resolve(Cifar10Archive.ARCHIVE) : source;
    }
}
