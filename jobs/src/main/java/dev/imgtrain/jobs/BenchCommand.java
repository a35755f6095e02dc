package dev.imgtrain.jobs;

import dev.imgtrain.bench.Benchmarks;
import dev.imgtrain.bench.PyTorchPeer;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.ingest.IngestJob;
import dev.imgtrain.model.NetworkSpec;
import dev.imgtrain.preprocess.PreprocessJob;
import dev.imgtrain.train.TrainJob;
import dev.imgtrain.train.TrainResult;
import dev.imgtrain.preprocess.DatasetReader;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;

/**
 * {@code imgtrain bench}: the pipeline against the machine's limits, side by side in one Spark application (issue 6):
 * ND4J's matrix-product rate and the FLOP floor of an epoch, plain DL4J's epoch, imgtrain's Spark epoch, and ingest
 * against gunzip-and-read. {@code bench storage} compares Parquet I/O between warehouses.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures, side by side in one run (medians of --repeats): ND4J's float32 matrix-product rate "
                + "and the FLOP floor of one epoch of the preset; one epoch of plain single-process DL4J on the same "
                + "data in memory; one epoch of imgtrain's Spark parameter averaging; ingest of the MNIST (and "
                + "CIFAR-10) archives against gunzipping and reading the same bytes. Prints a table, writes --out.",
                "Also: wall time to the target test accuracy (98 %%: the seed's) for imgtrain and plain DL4J, from the "
                        + "features table (data loading included on both sides), and Spark MLlib's "
                        + "MultilayerPerceptronClassifier (same layers, native OpenBLAS) given imgtrain's time: its test accuracy."},
        subcommands = {BenchCommand.Storage.class})
final class BenchCommand implements Callable<Integer>, ConfiguredCommand {
    @Mixin
    CommonOptions common = new CommonOptions();
    @Mixin
    TrainOptions train = new TrainOptions();

    @Option(names = "--cifar-source", paramLabel = "DIR_OR_FILE", description = "The CIFAR-10 archive (or its directory) for the ingest comparison.")
    java.nio.file.Path cifarSource;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "bench.json", description = "JSON figures (default ${DEFAULT-VALUE}).")
    File out;

    @Option(names = "--repeats", defaultValue = "3", description = "Repeats of each measurement; medians are reported (default ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--target-accuracy", defaultValue = "0.98", paramLabel = "ACCURACY",
            description = "Test accuracy that plain DL4J and imgtrain train to, for the time-to-accuracy figure (default ${DEFAULT-VALUE}, the seed's).")
    double target;

    @Option(names = "--max-epochs", defaultValue = "20", description = "Epochs after which a run that has not reached the target stops (default ${DEFAULT-VALUE}).")
    int maxEpochs;

    @Option(names = "--ingest-warmups", defaultValue = "4", paramLabel = "N",
            description = "Untimed ingests of each archive before the timed ones (default ${DEFAULT-VALUE}): the JIT is "
                    + "still compiling Parquet's and Spark's code for the first few, on the same cores. The first one's "
                    + "time is reported as ingest_<dataset>_cold_seconds.")
    int ingestWarmups;

    @Option(names = "--ingest-only", description = "Only the ingest figures (seconds, not minutes); the training figures are left out.")
    boolean ingestOnly;

    @Option(names = "--mllib-seconds", defaultValue = "0", paramLabel = "SECONDS",
            description = "Wall-time budget for MLlib's perceptron: 0 (default) gives it imgtrain's median time to the target; a negative value skips it.")
    double mllibBudget;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", paramLabel = "PYTHON",
            description = "The Python with Debian's python3-torch for the PyTorch peer (default ${DEFAULT-VALUE}); "
                    + "'none' leaves the peer out.")
    String python;

    @Option(names = "--stream-copies", defaultValue = "10", paramLabel = "N",
            description = "Data beyond memory: train one epoch on MNIST enlarged N times by shifted copies "
                    + "(600,000 examples for 10) with a batch cache too small to hold it, against the cached epoch "
                    + "(default ${DEFAULT-VALUE}; 0 leaves it out).")
    int streamCopies;

    @Option(names = "--stream-cache-mb", defaultValue = "64", paramLabel = "MB",
            description = "The batch cache for the enlarged set (default ${DEFAULT-VALUE} MB).")
    int streamCacheMb;

    @Override
    public PipelineConfig config() {
        return loader().load();
    }

    /** The command's configuration sources; checkpoints are off (they are not what is measured). */
    private dev.imgtrain.config.ConfigLoader loader() {
        return train.apply(common.loader()).withSetting("train.checkpoints=false");
    }

    @Override
    public Integer call() throws Exception {
        if (repeats < 1 || maxEpochs < 1 || ingestWarmups < 0 || !(target > 0 && target <= 1)) {
            throw new dev.imgtrain.config.ConfigException("--repeats and --max-epochs must be at least 1, --ingest-warmups "
                    + "at least 0 and --target-accuracy in (0, 1]: got " + repeats + ", " + maxEpochs + ", "
                    + ingestWarmups + ", " + target);
        }
        PipelineConfig base = config();
        if (!base.dataset().equals("mnist") || !base.format().isEmpty()) {
            throw new dev.imgtrain.config.ConfigException("bench runs on MNIST's archives: --dataset mnist (--source MNIST_DIR)");
        }
        SparkSession spark = Stage.session("bench", base);
        Warehouse warehouse = Stage.warehouse(spark, base);
        java.nio.file.Path source = java.nio.file.Path.of(base.sourceOrDefault());
        int cores = Runtime.getRuntime().availableProcessors();
        Map<String, List<Double>> raw = new LinkedHashMap<>();
        // Warm-up ingests, untimed but for the first (a fresh JVM's ingest, as a spark-submit of one ingest sees it).
        for (int w = 0; w < ingestWarmups; w++) {
            double mnist = ingestSeconds(spark, "mnist", source.toString(), warehouse);
            double cifar = cifarSource == null ? Double.NaN
                    : ingestSeconds(spark, "cifar10", cifarSource.toString(), warehouse);
            if (w == 0) {
                add(raw, "ingest_mnist_cold_seconds", mnist);
                if (cifarSource != null) {
                    add(raw, "ingest_cifar10_cold_seconds", cifar);
                }
            }
        }
        for (int r = 0; r < repeats; r++) {
            add(raw, "ingest_mnist_seconds", ingestSeconds(spark, "mnist", source.toString(), warehouse));
            add(raw, "gunzip_mnist_seconds", Benchmarks.gunzipSeconds(
                    dev.imgtrain.fetch.DatasetDownload.MNIST.files().stream().map(f -> source.resolve(f.name())).toList()));
            if (cifarSource != null) {
                add(raw, "ingest_cifar10_seconds", ingestSeconds(spark, "cifar10", cifarSource.toString(), warehouse));
                add(raw, "gunzip_cifar10_seconds", Benchmarks.gunzipTarSeconds(Benchmarks.cifarArchive(cifarSource)));
            }
        }
        long examples = 0;
        List<Map<String, Object>> convergence = new ArrayList<>();
        Map<String, Object> mllib = null;
        java.util.Optional<PyTorchPeer> peer = ingestOnly || python.equals("none") ? java.util.Optional.empty()
                : PyTorchPeer.find(python);
        // The two thread splits of issue 18 (torch intra-op threads, OpenBLAS threads); the better one is PyTorch's figure.
        List<PyTorchPeer.Split> splits = List.of(new PyTorchPeer.Split(1, cores), new PyTorchPeer.Split(cores, 1));
        List<Map<String, Object>> pytorchRuns = new ArrayList<>();
        if (!ingestOnly && cifarSource != null) {
            PreprocessJob.run(spark, "cifar10", warehouse, base.preprocessPartitions());
        }
        if (!ingestOnly) {
            PreprocessJob.run(spark, "mnist", warehouse, base.preprocessPartitions());
            String enlarged = "mnist-x" + streamCopies;
            if (streamCopies > 0) {
                dev.imgtrain.bench.ShiftedCopies.write(spark, warehouse, "mnist", enlarged, streamCopies);
                PreprocessJob.run(spark, enlarged, warehouse, base.preprocessPartitions());
            }
            String features = warehouse.featuresDir("mnist").toString();
            long loadStart = System.nanoTime();
            List<org.nd4j.linalg.dataset.DataSet> batches = Benchmarks.trainBatches(spark, features,
                    base.model().batchSize(), base.train().maxExamples(), base.train().seed());
            double plainLoadSeconds = (System.nanoTime() - loadStart) / 1e9;
            List<org.nd4j.linalg.dataset.DataSet> testBatches = Benchmarks.testBatches(spark, features, 1000);
            examples = batches.stream().mapToLong(b -> b.numExamples()).sum();
            double flopsPerEpoch = 3.0 * 2.0 * Benchmarks.macsPerExample(base.model(), 784, 10) * examples;
            for (int r = 0; r < repeats; r++) {
                double gflops = Benchmarks.matmulGflops(2048, 5, cores);
                add(raw, "matmul_gflops", gflops);
                add(raw, "floor_epoch_seconds", flopsPerEpoch / (gflops * 1e9));
                add(raw, "gemm_epoch_seconds", Benchmarks.gemmEpochSeconds(base.model(), 784, 10,
                        base.model().batchSize(), examples, 20, cores));
                // Plain DL4J and imgtrain on Spark, each trained epoch by epoch up to the target accuracy: the second
                // epoch of each is the epoch figure (the first includes JIT warm-up, and for Spark the batch export).
                Benchmarks.Convergence plain = Benchmarks.plainTimeToAccuracy(base.model(), 784, 10, base.train().seed(),
                        batches, testBatches, cores, target, maxEpochs);
                add(raw, "local_epoch_seconds", plain.epochSeconds()[Math.min(1, plain.epochSeconds().length - 1)]);
                if ("rmsprop".equals(base.model().updater().name()) && "java".equals(base.model().updater().implementation())) {
                    // The same plain epoch with ND4J's own RMSProp op instead of imgtrain's loop (CpuRmsProp): what the
                    // loop is worth; the target ratios use the network as imgtrain trains it.
                    add(raw, "local_epoch_nd4j_updater_seconds", plainEpochSeconds(
                            base.model().withUpdaterImplementation("nd4j"), base, batches, testBatches, cores));
                }
                if ("gemm".equals(base.model().layerImplementation())) {
                    // The same plain epoch with DL4J's own dense and output layers instead of GemmLayers: what the
                    // single gemm and the kept pre-activations are worth.
                    add(raw, "local_epoch_dl4j_layers_seconds", plainEpochSeconds(
                            base.model().withLayerImplementation("dl4j"), base, batches, testBatches, cores));
                }
                add(raw, "local_seconds_to_target", plainLoadSeconds + plain.secondsToTarget());
                // The PyTorch peer, in this repeat, just before imgtrain's run: both see the same machine mode.
                for (PyTorchPeer.Split split : peer.isPresent() ? splits : List.<PyTorchPeer.Split>of()) {
                    PyTorchPeer.Run t = peer.get().run("mnist", source.toString(), base.train().maxExamples(), split, base.train().seed(), target,
                            maxEpochs, split.equals(splits.get(0)));
                    add(raw, "pytorch_" + split.label() + "_epoch_seconds", t.warmEpochSeconds());
                    add(raw, "pytorch_" + split.label() + "_seconds_to_target",
                            t.secondsToTarget() == null ? Double.NaN : t.secondsToTarget());
                    if (t.matmulGflops() != null) {
                        add(raw, "pytorch_matmul_gflops", t.matmulGflops());
                    }
                    pytorchRuns.add(Map.of("repeat", r + 1, "dataset", "mnist", "run", t.json()));
                }
                PipelineConfig run = loader().withFlag("train.epochs", maxEpochs)
                        .withSetting("train.stop-at-accuracy=" + target)
                        .withFlag("train.run-id", "bench-" + System.currentTimeMillis()).load();
                TrainResult result = TrainJob.run(spark, run, warehouse);
                Benchmarks.Convergence spark_ = Benchmarks.fromEpochs(result.epochs(), result.batchSeconds(), target);
                add(raw, "spark_epoch_seconds", spark_.epochSeconds()[Math.min(1, spark_.epochSeconds().length - 1)]);
                add(raw, "spark_batch_export_seconds", result.batchSeconds());
                add(raw, "spark_seconds_to_target", spark_.secondsToTarget());
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("repeat", r + 1);
                c.put("plain_load_seconds", plainLoadSeconds);
                c.put("plain", plain);
                c.put("spark_run", result.runId());
                c.put("spark", spark_);
                convergence.add(c);
                if (streamCopies > 0) {
                    // One epoch over the enlarged set with a small batch cache: every batch read from its file. The
                    // dataset was written by the bench, not ingested: "folder" lets it have a name of its own.
                    PipelineConfig streamed = loader().withFlag("dataset", "mnist-x" + streamCopies)
                            .withFlag("format", "folder").withFlag("train.epochs", 1)
                            .withSetting("train.batch-cache-mb=" + streamCacheMb)
                            .withFlag("train.run-id", "bench-stream-" + System.currentTimeMillis()).load();
                    try (dev.imgtrain.bench.HeapWatch heap = new dev.imgtrain.bench.HeapWatch()) {
                        TrainResult s = TrainJob.run(spark, streamed, warehouse);
                        add(raw, "stream_epoch_seconds", s.epochs().get(0).epochSeconds());
                        add(raw, "stream_seconds_per_example", s.epochs().get(0).epochSeconds() / s.trainExamples());
                        add(raw, "stream_batch_export_seconds", s.batchSeconds());
                        add(raw, "stream_driver_peak_heap_mib", heap.peakMib());
                        add(raw, "stream_examples", s.trainExamples());
                    }
                    add(raw, "cached_seconds_per_example",
                            spark_.epochSeconds()[Math.min(1, spark_.epochSeconds().length - 1)] / result.trainExamples());
                }
                if (cifarSource != null) {
                    for (PyTorchPeer.Split split : peer.isPresent() ? splits : List.<PyTorchPeer.Split>of()) {
                        PyTorchPeer.Run t = peer.get().run("cifar10", cifarSource.toString(), base.train().maxExamples(), split, base.train().seed(),
                                2.0, 2, false);
                        add(raw, "cifar_pytorch_" + split.label() + "_epoch_seconds", t.warmEpochSeconds());
                        pytorchRuns.add(Map.of("repeat", r + 1, "dataset", "cifar10", "run", t.json()));
                    }
                    // The seeds' small CIFAR-10 network (cifar10-dense-32-16), 2 epochs: the second is the warm one.
                    PipelineConfig cifar = loader().withFlag("dataset", "cifar10")
                            .withFlag("train.preset", "cifar10-dense-32-16").withFlag("train.epochs", 2)
                            .withFlag("train.run-id", "bench-cifar-" + System.currentTimeMillis()).load();
                    TrainResult cifarRun = TrainJob.run(spark, cifar, warehouse);
                    add(raw, "cifar_spark_epoch_seconds", cifarRun.epochs().get(1).epochSeconds());
                }
            }
            if (mllibBudget >= 0) {
                Dataset<Row> all = spark.read().parquet(features);
                Dataset<Row> train = all.where(col("split").equalTo("train"));
                if (base.train().maxExamples() > 0) {
                    train = train.orderBy("id").limit(base.train().maxExamples());
                }
                double budget = mllibBudget > 0 ? mllibBudget : median(raw.get("spark_seconds_to_target"));
                if (Double.isNaN(budget)) {
                    budget = median(raw.get("spark_epoch_seconds")) * maxEpochs;
                }
                mllib = new LinkedHashMap<>();
                mllib.put("blas", dev.imgtrain.bench.MllibPeer.useNativeBlas());
                mllib.putAll(dev.imgtrain.bench.MllibPeer.accuracyWithin(train, all.where(col("split").equalTo("test")),
                        new int[]{784, base.model().hidden().get(0).units(), 10}, base.model().batchSize(),
                        base.train().seed(), budget));
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        String best = bestSplit(raw, splits, "pytorch_");
        String bestCifar = bestSplit(raw, splits, "cifar_pytorch_");
        report.put("spark_vs_pytorch_epoch_ratio", best == null ? null
                : ratio(raw, "spark_epoch_seconds", "pytorch_" + best + "_epoch_seconds"));
        report.put("time_to_98_vs_pytorch_ratio", best == null ? null
                : ratio(raw, "spark_seconds_to_target", "pytorch_" + best + "_seconds_to_target"));
        report.put("cifar_spark_vs_pytorch_epoch_ratio", bestCifar == null ? null
                : ratio(raw, "cifar_spark_epoch_seconds", "cifar_pytorch_" + bestCifar + "_epoch_seconds"));
        report.put("pytorch_best_split", best);
        report.put("stream_vs_cached_per_example_ratio", ratio(raw, "stream_seconds_per_example", "cached_seconds_per_example"));
        report.put("stream_batch_cache_mb", streamCopies > 0 ? streamCacheMb : null);
        report.put("driver_max_heap_mib", Runtime.getRuntime().maxMemory() / (1024.0 * 1024.0));
        report.put("spark_vs_local_epoch_ratio", ratio(raw, "spark_epoch_seconds", "local_epoch_seconds"));
        report.put("local_epoch_vs_floor_ratio", ratio(raw, "local_epoch_seconds", "floor_epoch_seconds"));
        // Where plain DL4J's epoch goes: its matrix products at their real shapes, against the floor and the epoch.
        report.put("gemm_epoch_vs_floor_ratio", ratio(raw, "gemm_epoch_seconds", "floor_epoch_seconds"));
        report.put("local_epoch_vs_gemm_ratio", ratio(raw, "local_epoch_seconds", "gemm_epoch_seconds"));
        report.put("time_to_98_vs_local_ratio", ratio(raw, "spark_seconds_to_target", "local_seconds_to_target"));
        report.put("mllib_accuracy_at_equal_time", mllib == null ? null : mllib.get("test_accuracy"));
        report.put("ingest_vs_gunzip_ratio_mnist", ratio(raw, "ingest_mnist_seconds", "gunzip_mnist_seconds"));
        report.put("ingest_vs_gunzip_ratio_cifar10", ratio(raw, "ingest_cifar10_seconds", "gunzip_cifar10_seconds"));
        Map<String, Object> medians = new LinkedHashMap<>();
        raw.forEach((k, v) -> medians.put(k, median(v)));
        report.put("medians", medians);
        report.put("raw", raw);
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", cores);
        machine.put("cpu", cpuModel());
        machine.put("host", java.net.InetAddress.getLocalHost().getHostName());
        machine.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        machine.put("nd4j", Stage.nd4jDevices());
        machine.put("spark_master", spark.sparkContext().master());
        report.put("machine", machine);
        report.put("versions", dev.imgtrain.store.BuildInfo.versions());
        report.put("measured_at", java.time.Instant.now().toString());
        report.put("preset", base.train().preset());
        report.put("workers", base.train().workers());
        report.put("train_examples", examples);
        report.put("repeats", repeats);
        report.put("target_accuracy", target);
        report.put("max_epochs", maxEpochs);
        report.put("convergence", convergence);
        report.put("pytorch", peer.isEmpty() ? (ingestOnly || python.equals("none") ? "not run" : "not available: "
                + python + " cannot import torch") : pytorchRuns);
        report.put("mllib", mllib);
        Warehouse.JSON.writeValue(out, report);
        System.out.printf("%-34s %10s%n", "measurement (median of " + repeats + ")", "value");
        medians.forEach((k, v) -> System.out.printf("%-34s %10.3f%n", k, (Double) v));
        for (String k : List.of("spark_vs_pytorch_epoch_ratio", "time_to_98_vs_pytorch_ratio",
                "cifar_spark_vs_pytorch_epoch_ratio", "stream_vs_cached_per_example_ratio", "spark_vs_local_epoch_ratio", "local_epoch_vs_floor_ratio", "gemm_epoch_vs_floor_ratio",
                "local_epoch_vs_gemm_ratio", "time_to_98_vs_local_ratio",
                "mllib_accuracy_at_equal_time", "ingest_vs_gunzip_ratio_mnist", "ingest_vs_gunzip_ratio_cifar10")) {
            Object v = report.get(k);
            System.out.printf("%-34s %10s%n", k, v == null ? "-" : String.format("%.3f", (Double) v));
        }
        System.out.println("figures in " + out);
        return 0;
    }

    /** The ratio of two figures' medians; null when either was not measured or a run never reached the target. */
    private static Double ratio(Map<String, List<Double>> raw, String numerator, String denominator) {
        if (!raw.containsKey(numerator) || !raw.containsKey(denominator)) {
            return null;
        }
        double a = median(raw.get(numerator));
        double b = median(raw.get(denominator));
        return Double.isNaN(a) || Double.isNaN(b) ? null : a / b;
    }

    /** The CPU model line of /proc/cpuinfo, or "unknown". */
    private static String cpuModel() {
        try {
            return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /** The split (label) with the lower median warm epoch under {@code prefix}, or null when the peer did not run. */
    private static String bestSplit(Map<String, List<Double>> raw, List<PyTorchPeer.Split> splits, String prefix) {
        String best = null;
        double bestSeconds = Double.POSITIVE_INFINITY;
        for (PyTorchPeer.Split s : splits) {
            List<Double> xs = raw.get(prefix + s.label() + "_epoch_seconds");
            if (xs != null && median(xs) < bestSeconds) {
                bestSeconds = median(xs);
                best = s.label();
            }
        }
        return best;
    }

    /** Wall seconds of one whole ingest of {@code dataset} from {@code source}. */
    private static double ingestSeconds(SparkSession spark, String dataset, String source, Warehouse warehouse) {
        long start = System.nanoTime();
        IngestJob.run(spark, dataset, "", source, warehouse);
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Seconds of the second epoch of plain DL4J training {@code spec} (a variant of the preset's network) on the
     * in-memory batches: two epochs with an unreachable target, the first being JIT warm-up.
     */
    private static double plainEpochSeconds(NetworkSpec spec, PipelineConfig base,
                                            List<org.nd4j.linalg.dataset.DataSet> batches,
                                            List<org.nd4j.linalg.dataset.DataSet> testBatches, int cores) {
        return Benchmarks.plainTimeToAccuracy(spec, 784, 10, base.train().seed(), batches, testBatches, cores, 2.0, 2)
                .epochSeconds()[1];
    }

    private static void add(Map<String, List<Double>> raw, String key, double value) {
        raw.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }

    private static double median(List<Double> xs) {
        return Storage.median(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    @Command(name = "storage", mixinStandardHelpOptions = true,
            description = {"Writes the dataset's features table (read once from --warehouse and cached) as Parquet to "
                    + "each --target, then reads it back in full, --repeats times, alternating targets; prints "
                    + "medians and the ratio of each target to the first."})
    static final class Storage implements Callable<Integer>, ConfiguredCommand {
        @Mixin
        CommonOptions common = new CommonOptions();

        @Option(names = "--target", required = true, paramLabel = "URI",
                description = "A directory to write to (repeatable); it is overwritten. The first is the baseline.")
        List<String> targets;

        @Option(names = "--repeats", defaultValue = "3", description = "Rounds (default ${DEFAULT-VALUE}).")
        int repeats;

        @Option(names = "--out", paramLabel = "FILE", description = "Also write the figures as JSON.")
        File out;

        @Override
        public PipelineConfig config() {
            return common.loader().load();
        }

        @Override
        public Integer call() throws Exception {
            PipelineConfig config = config();
            List<String> uris = new ArrayList<>(targets);
            uris.add(config.warehouse());
            SparkSession spark = Stage.session("bench", config, uris.toArray(String[]::new));
            Warehouse warehouse = Stage.warehouse(spark, config);
            DatasetReader.featuresManifest(warehouse, config.dataset());
            Dataset<Row> features = spark.read().parquet(warehouse.featuresDir(config.dataset()).toString())
                    .persist(StorageLevel.MEMORY_ONLY());
            long rows = features.count();
            long values = features.agg(sum(size(col("features")))).first().getLong(0);
            Map<String, double[][]> seconds = new LinkedHashMap<>(); // target -> [write[], read[]]
            for (String t : targets) {
                seconds.put(t, new double[][]{new double[repeats], new double[repeats]});
            }
            for (int r = 0; r < repeats; r++) {
                for (String t : targets) {
                    String dir = new Path(Warehouse.qualify(t), "features-bench").toString();
                    long start = System.nanoTime();
                    features.write().mode("overwrite").parquet(dir);
                    seconds.get(t)[0][r] = (System.nanoTime() - start) / 1e9;
                    start = System.nanoTime();
                    long read = spark.read().parquet(dir).agg(sum(size(col("features")))).first().getLong(0);
                    seconds.get(t)[1][r] = (System.nanoTime() - start) / 1e9;
                    if (read != values) {
                        throw new IllegalStateException(dir + ": read back " + read + " feature values, wrote " + values);
                    }
                }
            }
            features.unpersist();
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("dataset", config.dataset());
            report.put("rows", rows);
            report.put("feature_values", values);
            report.put("repeats", repeats);
            report.put("spark_master", spark.sparkContext().master());
            List<Map<String, Object>> results = new ArrayList<>();
            double[] base = null;
            System.out.printf("%-44s %12s %12s %10s %10s%n", "target (" + rows + " rows)", "write s", "read s", "write ÷1st", "read ÷1st");
            for (String t : targets) {
                double w = median(seconds.get(t)[0]);
                double rd = median(seconds.get(t)[1]);
                if (base == null) {
                    base = new double[]{w, rd};
                }
                System.out.printf("%-44s %12.2f %12.2f %10.2f %10.2f%n", t, w, rd, w / base[0], rd / base[1]);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("target", t);
                m.put("write_seconds", seconds.get(t)[0]);
                m.put("read_seconds", seconds.get(t)[1]);
                m.put("write_median_seconds", w);
                m.put("read_median_seconds", rd);
                m.put("write_vs_first_ratio", w / base[0]);
                m.put("read_vs_first_ratio", rd / base[1]);
                results.add(m);
            }
            report.put("results", results);
            if (out != null) {
                Warehouse.JSON.writeValue(out, report);
            }
            return 0;
        }

        static double median(double[] xs) {
            double[] s = xs.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }
    }
}
