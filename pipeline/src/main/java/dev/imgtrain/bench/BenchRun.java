package dev.imgtrain.bench;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.config.NetworkSpec;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.fetch.DatasetDownload;
import dev.imgtrain.ingest.IngestJob;
import dev.imgtrain.preprocess.PreprocessJob;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.TrainJob;
import dev.imgtrain.train.TrainResult;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.dataset.DataSet;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import static org.apache.spark.sql.functions.col;

/**
 * {@code imgtrain bench}: the pipeline against the machine's limits and the alternatives, side by side in one Spark
 * application, medians of {@code repeats}. Ingest against gunzip-and-read; per repeat ND4J's matrix-product rate and
 * the FLOP floor of an epoch, plain single-process DL4J to the target accuracy, the PyTorch peer (both thread splits),
 * imgtrain to the target, one epoch over MNIST enlarged by shifted copies through a small batch cache, and the
 * PyTorch peer and imgtrain on CIFAR-10's small network; then MLlib's perceptron given imgtrain's time.
 */
public final class BenchRun {
    /** What the command line chose; see {@code imgtrain bench --help}. */
    public record Options(Path cifarSource, File out, int repeats, double target, int maxEpochs, int ingestWarmups,
                          boolean ingestOnly, double mllibBudget, String python, int streamCopies, int streamCacheMb) {
        public Options {
            if (repeats < 1 || maxEpochs < 1 || ingestWarmups < 0 || !(target > 0 && target <= 1)) {
                throw new ConfigException("--repeats and --max-epochs must be at least 1, --ingest-warmups "
                        + "at least 0 and --target-accuracy in (0, 1]: got " + repeats + ", " + maxEpochs + ", "
                        + ingestWarmups + ", " + target);
            }
        }
    }

    private final SparkSession spark;
    private final Warehouse warehouse;
    /** The command's configuration sources, without the bench's own additions. */
    private final Supplier<ConfigLoader> loader;
    private final Options o;
    private final PipelineConfig base;
    private final int cores = Runtime.getRuntime().availableProcessors();
    private final Figures figures = new Figures();
    private final List<Map<String, Object>> convergence = new ArrayList<>();
    private final List<Map<String, Object>> pytorchRuns = new ArrayList<>();
    // The two thread splits of issue 18 (torch intra-op threads, OpenBLAS threads); the faster is PyTorch's figure.
    private final List<PyTorchPeer.Split> splits = List.of(new PyTorchPeer.Split(1, cores), new PyTorchPeer.Split(cores, 1));
    private Optional<PyTorchPeer> peer = Optional.empty();
    private long examples;

    private BenchRun(SparkSession spark, Warehouse warehouse, Supplier<ConfigLoader> loader, Options options) {
        this.spark = spark;
        this.warehouse = warehouse;
        this.loader = loader;
        this.o = options;
        this.base = config().load();
        if (!base.dataset().equals("mnist") || !base.format().isEmpty()) {
            throw new ConfigException("bench runs on MNIST's archives: --dataset mnist (--source MNIST_DIR)");
        }
    }

    /** Checkpoints are off in every bench run: they are not what is measured. */
    private ConfigLoader config() {
        return loader.get().withSetting("train.checkpoints=false");
    }

    /** Runs the bench, writes {@code options.out()} and prints the medians and ratios; returns the report. */
    public static Map<String, Object> run(SparkSession spark, Warehouse warehouse, Supplier<ConfigLoader> loader,
                                          Options options) throws IOException {
        BenchRun bench = new BenchRun(spark, warehouse, loader, options);
        bench.ingests();
        Map<String, Object> mllib = null;
        if (!options.ingestOnly()) {
            bench.peer = options.python().equals("none") ? Optional.empty() : PyTorchPeer.find(options.python());
            mllib = bench.training();
        }
        Map<String, Object> report = BenchReport.build(bench.figures, bench.base, spark, bench.splits, mllib);
        report.put("train_examples", bench.examples);
        report.put("repeats", options.repeats());
        report.put("target_accuracy", options.target());
        report.put("max_epochs", options.maxEpochs());
        report.put("stream_batch_cache_mb", options.streamCopies() > 0 ? options.streamCacheMb() : null);
        report.put("convergence", bench.convergence);
        report.put("pytorch", bench.peer.isPresent() ? bench.pytorchRuns
                : options.ingestOnly() || options.python().equals("none") ? "not run"
                : "not available: " + options.python() + " cannot import torch");
        report.put("mllib", mllib);
        Warehouse.JSON.writeValue(options.out(), report);
        BenchReport.print(bench.figures, report, options.repeats(), options.out());
        return report;
    }

    /** Ingest against gunzip-and-read, after untimed warm-ups (the first one's time is the cold figure). */
    private void ingests() throws IOException {
        Path source = Path.of(base.sourceOrDefault());
        Path cifar = o.cifarSource();
        for (int w = 0; w < o.ingestWarmups(); w++) {
            double mnist = ingestSeconds("mnist", source.toString());
            double cifarSeconds = cifar == null ? Double.NaN : ingestSeconds("cifar10", cifar.toString());
            if (w == 0) {
                figures.add("ingest_mnist_cold_seconds", mnist);
                if (cifar != null) {
                    figures.add("ingest_cifar10_cold_seconds", cifarSeconds);
                }
            }
        }
        for (int r = 0; r < o.repeats(); r++) {
            figures.add("ingest_mnist_seconds", ingestSeconds("mnist", source.toString()));
            figures.add("gunzip_mnist_seconds", Benchmarks.gunzipSeconds(
                    DatasetDownload.MNIST.files().stream().map(f -> source.resolve(f.name())).toList()));
            if (cifar != null) {
                figures.add("ingest_cifar10_seconds", ingestSeconds("cifar10", cifar.toString()));
                figures.add("gunzip_cifar10_seconds", Benchmarks.gunzipTarSeconds(Benchmarks.cifarArchive(cifar)));
            }
        }
    }

    private double ingestSeconds(String dataset, String source) {
        long start = System.nanoTime();
        IngestJob.run(spark, dataset, "", source, warehouse);
        return (System.nanoTime() - start) / 1e9;
    }

    /** The training figures, repeat by repeat; returns MLlib's result (null when skipped). */
    private Map<String, Object> training() {
        if (o.cifarSource() != null) {
            PreprocessJob.run(spark, "cifar10", warehouse, base.preprocessPartitions());
        }
        PreprocessJob.run(spark, "mnist", warehouse, base.preprocessPartitions());
        String enlarged = "mnist-x" + o.streamCopies();
        if (o.streamCopies() > 0) {
            ShiftedCopies.write(spark, warehouse, "mnist", enlarged, o.streamCopies());
            PreprocessJob.run(spark, enlarged, warehouse, base.preprocessPartitions());
        }
        String features = warehouse.featuresDir("mnist").toString();
        NetworkSpec spec = base.model();
        long loadStart = System.nanoTime();
        List<DataSet> batches = Benchmarks.trainBatches(spark, features, spec.batchSize(), base.train().maxExamples(),
                base.train().seed());
        double plainLoadSeconds = (System.nanoTime() - loadStart) / 1e9;
        List<DataSet> testBatches = Benchmarks.testBatches(spark, features, 1000);
        examples = batches.stream().mapToLong(DataSet::numExamples).sum();
        // One worker's mini-batches (the first 200 of them), for the step profile.
        int perWorker = base.train().batchSizePerWorker();
        List<DataSet> workerBatches = Benchmarks.trainBatches(spark, features, perWorker, 200 * perWorker,
                base.train().seed());
        double flopsPerEpoch = 2.0 * Benchmarks.trainingMacsPerExample(spec, 784, 10) * examples;
        for (int r = 0; r < o.repeats(); r++) {
            double gflops = Benchmarks.matmulGflops(2048, 5, cores);
            figures.add("matmul_gflops", gflops);
            figures.add("floor_epoch_seconds", flopsPerEpoch / (gflops * 1e9));
            figures.add("gemm_epoch_seconds", Benchmarks.gemmEpochSeconds(spec, 784, 10, spec.batchSize(), examples, 20, cores));
            stepProfile(spec, perWorker, workerBatches);
            // Plain DL4J and imgtrain on Spark, each trained epoch by epoch up to the target accuracy: the second
            // epoch of each is the epoch figure (the first includes JIT warm-up, and for Spark the batch export).
            Benchmarks.Convergence plain = Benchmarks.plainTimeToAccuracy(spec, 784, 10, base.train().seed(),
                    batches, testBatches, cores, o.target(), o.maxEpochs());
            figures.add("local_epoch_seconds", second(plain.epochSeconds()));
            if ("rmsprop".equals(spec.updater().name()) && "java".equals(spec.updater().implementation())) {
                // ND4J's own RMSProp op instead of imgtrain's loop (CpuRmsProp): what the loop is worth.
                figures.add("local_epoch_nd4j_updater_seconds",
                        plainEpochSeconds(spec.withUpdaterImplementation("nd4j"), batches, testBatches));
            }
            if (!"dl4j".equals(spec.layerImplementation())) {
                // DL4J's own dense and output layers instead of GemmLayers: what the single gemm is worth.
                figures.add("local_epoch_dl4j_layers_seconds",
                        plainEpochSeconds(spec.withLayerImplementation("dl4j"), batches, testBatches));
            }
            if ("fused".equals(spec.layerImplementation())) {
                // GemmLayers instead of the fused step: what the fused step is worth.
                figures.add("local_epoch_gemm_layers_seconds",
                        plainEpochSeconds(spec.withLayerImplementation("gemm"), batches, testBatches));
            }
            figures.add("local_seconds_to_target", plainLoadSeconds + plain.secondsToTarget());
            figures.add("local_epochs_to_target", epochsOrNaN(plain.epochsToTarget()));
            // The PyTorch peer, in this repeat, just before imgtrain's run: both see the same machine mode.
            pytorch(r, "mnist", base.sourceOrDefault(), "pytorch_", o.target(), o.maxEpochs(), true);
            TrainResult result = TrainJob.run(spark, config().withFlag("train.epochs", o.maxEpochs())
                    .withSetting("train.stop-at-accuracy=" + o.target())
                    .withFlag("train.run-id", "bench-" + System.currentTimeMillis()).load(), warehouse);
            Benchmarks.Convergence sparkRun = Benchmarks.fromEpochs(result.epochs(), result.batchSeconds(), o.target());
            double sparkEpoch = second(sparkRun.epochSeconds());
            figures.add("spark_epoch_seconds", sparkEpoch);
            figures.add("spark_batch_export_seconds", result.batchSeconds());
            figures.add("spark_seconds_to_target", sparkRun.secondsToTarget());
            figures.add("spark_epochs_to_target", epochsOrNaN(sparkRun.epochsToTarget()));
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("repeat", r + 1);
            c.put("plain_load_seconds", plainLoadSeconds);
            c.put("plain", plain);
            c.put("spark_run", result.runId());
            c.put("spark", sparkRun);
            convergence.add(c);
            if (o.streamCopies() > 0) {
                streamed(enlarged, r == 0);
                figures.add("cached_seconds_per_example", sparkEpoch / result.trainExamples());
            }
            if (o.cifarSource() != null) {
                pytorch(r, "cifar10", o.cifarSource().toString(), "cifar_pytorch_", 2.0, 2, false);
                // The seeds' small CIFAR-10 network (cifar10-dense-32-16), 2 epochs: the second is the warm one.
                TrainResult cifarRun = TrainJob.run(spark, config().withFlag("dataset", "cifar10")
                        .withFlag("train.preset", "cifar10-dense-32-16").withFlag("train.epochs", 2)
                        .withFlag("train.run-id", "bench-cifar-" + System.currentTimeMillis()).load(), warehouse);
                figures.add("cifar_spark_epoch_seconds", cifarRun.epochs().get(1).epochSeconds());
            }
        }
        return o.mllibBudget() < 0 ? null : mllib(features);
    }

    /**
     * One worker's step (one thread) of each layer implementation, inside and outside its matrix products, and the
     * sgemm rate at the step's shapes: {@code step_products_seconds}, {@code step_sgemm_gflops},
     * {@code step_<implementation>_seconds} and {@code step_<implementation>_outside_products_seconds}.
     */
    private void stepProfile(NetworkSpec spec, int perWorker, List<DataSet> workerBatches) {
        double products = StepProfile.productSeconds(spec, 784, 10, perWorker, 200);
        figures.add("step_products_seconds", products);
        figures.add("step_sgemm_gflops", 2.0 * Benchmarks.trainingMacsPerExample(spec, 784, 10) * perWorker / products / 1e9);
        for (String implementation : List.of("fused", "gemm", "dl4j")) {
            StepProfile.Step s = StepProfile.measure(spec, implementation, 784, 10, workerBatches, 200, products);
            figures.add("step_" + implementation + "_seconds", s.stepSeconds());
            figures.add("step_" + implementation + "_outside_products_seconds", s.outsideProductsSeconds());
        }
    }

    /** Epochs to the target as a figure: NaN when the target was not reached (-1). */
    private static double epochsOrNaN(int epochs) {
        return epochs > 0 ? epochs : Double.NaN;
    }

    /** The PyTorch peer on {@code dataset}, each thread split; figures under {@code prefix}. */
    private void pytorch(int repeat, String dataset, String source, String prefix, double target, int epochs,
                         boolean matmul) {
        for (PyTorchPeer.Split split : peer.isPresent() ? splits : List.<PyTorchPeer.Split>of()) {
            PyTorchPeer.Run t = peer.get().run(dataset, source, base.train().maxExamples(), split, base.train().seed(),
                    target, epochs, matmul && split.equals(splits.get(0)));
            figures.add(prefix + split.label() + "_epoch_seconds", t.warmEpochSeconds());
            if (target <= 1) {
                figures.add(prefix + split.label() + "_seconds_to_target",
                        t.secondsToTarget() == null ? Double.NaN : t.secondsToTarget());
                figures.add(prefix + split.label() + "_epochs_to_target", epochsOrNaN(t.epochsToTarget(target)));
            }
            if (t.matmulGflops() != null) {
                figures.add("pytorch_matmul_gflops", t.matmulGflops());
            }
            pytorchRuns.add(Map.of("repeat", repeat + 1, "dataset", dataset, "run", t.json()));
        }
    }

    /**
     * One epoch over the enlarged set with a small batch cache: every batch is read from its file. The dataset was
     * written by the bench, not ingested: "folder" lets it have a name of its own. In the first repeat, a second,
     * untimed epoch samples the driver JVM's live heap (forced full collections) and ND4J's off-heap memory.
     */
    private void streamed(String enlarged, boolean sampleLiveHeap) {
        ConfigLoader streamed = config().withFlag("dataset", enlarged).withFlag("format", "folder")
                .withFlag("train.epochs", 1).withSetting("train.batch-cache-mb=" + o.streamCacheMb());
        try (HeapWatch heap = new HeapWatch()) {
            TrainResult s = TrainJob.run(spark, streamed.withFlag("train.run-id", "bench-stream-" + System.currentTimeMillis())
                    .load(), warehouse);
            double seconds = s.epochs().get(0).epochSeconds();
            figures.add("stream_epoch_seconds", seconds);
            figures.add("stream_seconds_per_example", seconds / s.trainExamples());
            figures.add("stream_batch_export_seconds", s.batchSeconds());
            figures.add("stream_driver_peak_heap_mib", heap.peakMib());
            figures.add("stream_examples", s.trainExamples());
        }
        if (sampleLiveHeap) {
            try (HeapWatch heap = new HeapWatch(500)) {
                TrainResult s = TrainJob.run(spark, streamed.withFlag("train.run-id",
                        "bench-stream-heap-" + System.currentTimeMillis()).load(), warehouse);
                // An epoch shorter than the period (the fused step made BenchIT's 3,000 examples one of 0.1 s) may
                // see no periodic sample: one more at the run's end (what the epoch left live: batch cache, Spark
                // state), so the figure is never an empty 0.
                heap.sample();
                // With a local master the executors' tasks share this JVM: the export's sort buffers (executor
                // memory on a cluster) are counted in the whole run's figure, not in the epoch's.
                figures.add("stream_epoch_live_heap_mib", heap.liveMibSince(s.epochsStartedNanos()));
                figures.add("stream_run_live_heap_mib", heap.liveMib());
            }
        }
    }

    /** MLlib's perceptron with the preset's layers, given imgtrain's median time to the target. */
    private Map<String, Object> mllib(String features) {
        Dataset<Row> all = spark.read().parquet(features);
        Dataset<Row> train = all.where(col("split").equalTo("train"));
        if (base.train().maxExamples() > 0) {
            train = train.orderBy("id").limit(base.train().maxExamples());
        }
        double budget = o.mllibBudget() > 0 ? o.mllibBudget() : figures.median("spark_seconds_to_target");
        if (Double.isNaN(budget)) {
            budget = figures.median("spark_epoch_seconds") * o.maxEpochs();
        }
        Map<String, Object> mllib = new LinkedHashMap<>();
        mllib.put("blas", MllibPeer.useNativeBlas());
        mllib.putAll(MllibPeer.accuracyWithin(train, all.where(col("split").equalTo("test")),
                new int[]{784, base.model().hidden().get(0).units(), 10}, base.model().batchSize(),
                base.train().seed(), budget));
        return mllib;
    }

    /** Seconds of the second epoch of plain DL4J training {@code spec}: two epochs, the first being JIT warm-up. */
    private double plainEpochSeconds(NetworkSpec spec, List<DataSet> batches, List<DataSet> testBatches) {
        return Benchmarks.plainTimeToAccuracy(spec, 784, 10, base.train().seed(), batches, testBatches, cores, 2.0, 2)
                .epochSeconds()[1];
    }

    private static double second(double[] epochSeconds) {
        return epochSeconds[Math.min(1, epochSeconds.length - 1)];
    }
}
