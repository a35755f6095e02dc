package dev.imgtrain.config;

import com.typesafe.config.Config;

/**
 * The effective configuration of one command, parsed once by {@link ConfigLoader} and checked at load: every bad
 * value is refused with a message naming its key, its value and what is valid.
 *
 * @param rendered the effective configuration (defaults, file, settings, flags, preset) as formatted JSON
 * @param progress how long work shows progress: auto, bar, log or none ({@code progress})
 * @param executorWait how long a driver on a cluster waits for its first executor ({@code cluster.executor-wait})
 */
public record PipelineConfig(String dataset, String format, String source, String warehouse, int preprocessPartitions,
                             TrainConfig train, EvaluateConfig evaluate, StorageConfig storage, NetworkSpec model,
                             String rendered, String progress, java.time.Duration executorWait) {

    static PipelineConfig from(Config c, Config model, String preset) {
        String format = Checks.oneOf(c, "format", "", "folder");
        String dataset = format.isEmpty() ? Checks.oneOf(c, "dataset", "mnist", "fashion-mnist", "cifar10")
                : Checks.name(c, "dataset");
        String source = c.getString("source").trim();
        String warehouse = Checks.nonBlank(c, "warehouse");
        int partitions = Checks.intIn(c, "preprocess.partitions", 1, 100_000);
        NetworkSpec spec = NetworkSpec.from(model);
        Config effective = c.withValue("model", model.root());
        int presetAveraging = Checks.intIn(effective, "model.averaging-frequency", 1, 100_000);
        TrainConfig train = TrainConfig.from(c, preset, spec.batchSize(), presetAveraging, effective);
        EvaluateConfig evaluate = new EvaluateConfig(Checks.runIdOrEmpty(c, "evaluate.run"),
                Checks.intIn(c, "evaluate.batch-size", 1, 1 << 20));
        return new PipelineConfig(dataset, format, source, warehouse, partitions, train, evaluate, StorageConfig.from(c), spec,
                ConfigLoader.render(effective), Checks.oneOf(c, "progress", "auto", "bar", "log", "none"),
                Checks.duration(c, "cluster.executor-wait", java.time.Duration.ofSeconds(10)));
    }

    /** The source of the archives: the configured one, or ./data/&lt;dataset&gt; when empty. */
    public String sourceOrDefault() {
        return source.isEmpty() ? "data/" + dataset : source;
    }

    /**
     * Training settings ({@code train.*}). {@code batchSizePerWorker} is {@code train.batch-size} when set, else the
     * preset's (global, Keras-style) batch size split over the workers, so that one averaged step sees about as many
     * examples as one step of the seed's single-process training. {@code averagingFrequency} is
     * {@code train.averaging-frequency} when set, else the preset's {@code averaging-frequency}.
     */
    public record TrainConfig(String preset, int epochs, int workers, long seed, String runId, int batchSizePerWorker,
                              int averagingFrequency, int prefetch, int batchCacheMb, double validationFraction,
                              int maxExamples, boolean checkpoints, boolean collectStats, double stopAtAccuracy,
                              String ifCommitted, boolean fresh, double blockMomentum, double blockLearningRate,
                              boolean blockNesterov, dev.imgtrain.train.Callbacks.EarlyStopping earlyStopping,
                              dev.imgtrain.train.Callbacks.ReduceLrOnPlateau reduceLrOnPlateau,
                              dev.imgtrain.train.Callbacks.LrDecay lrDecay, String keepCheckpoints,
                              boolean shortBatchesLast) {
        static TrainConfig from(Config c, String preset, int presetBatchSize, int presetAveraging, Config effective) {
            int batch = Checks.intIn(c, "train.batch-size", 0, 1 << 16);
            int averaging = Checks.intIn(c, "train.averaging-frequency", 0, 100_000);
            int workers = Checks.intIn(c, "train.workers", 1, 10_000);
            double fraction = c.getDouble("train.validation-fraction");
            if (!(fraction >= 0.0 && fraction < 0.5)) {
                throw new ConfigException("train.validation-fraction = " + fraction + ": expected a value in [0, 0.5)");
            }
            return new TrainConfig(preset,
                    Checks.intIn(c, "train.epochs", 1, 10_000),
                    workers,
                    c.getLong("train.seed"),
                    Checks.runIdOrEmpty(c, "train.run-id"),
                    batch == 0 ? Math.max(1, (presetBatchSize + workers - 1) / workers) : batch,
                    averaging == 0 ? presetAveraging : averaging,
                    prefetch(c),
                    Checks.intIn(c, "train.batch-cache-mb", 0, 1 << 20),
                    fraction,
                    Checks.intIn(c, "train.max-examples", 0, Integer.MAX_VALUE),
                    c.getBoolean("train.checkpoints"),
                    c.getBoolean("train.collect-stats"),
                    Checks.fraction(c, "train.stop-at-accuracy"),
                    Checks.oneOf(c, "train.if-committed", "fail", "skip"),
                    c.getBoolean("train.fresh"),
                    "preset".equals(c.getValue("train.block-momentum").unwrapped())
                            ? blockMomentum(effective, "model.block-momentum", workers)
                            : blockMomentum(c, "train.block-momentum", workers),
                    Checks.doubleIn(c, "train.block-learning-rate", 0.1, 10),
                    c.getBoolean("train.block-nesterov"),
                    new dev.imgtrain.train.Callbacks.EarlyStopping(c.getBoolean("train.early-stopping.enabled"),
                            Checks.oneOf(c, "train.early-stopping.monitor", "val_loss", "val_accuracy"),
                            Checks.intIn(c, "train.early-stopping.patience", 0, 10_000),
                            Checks.doubleIn(c, "train.early-stopping.min-delta", 0, 1000),
                            c.getBoolean("train.early-stopping.restore-best-weights")),
                    new dev.imgtrain.train.Callbacks.ReduceLrOnPlateau(c.getBoolean("train.reduce-lr-on-plateau.enabled"),
                            Checks.oneOf(c, "train.reduce-lr-on-plateau.monitor", "val_loss", "val_accuracy"),
                            factor(c, "train.reduce-lr-on-plateau.factor"),
                            Checks.intIn(c, "train.reduce-lr-on-plateau.patience", 0, 10_000),
                            Checks.doubleIn(c, "train.reduce-lr-on-plateau.min-delta", 0, 1000),
                            Checks.intIn(c, "train.reduce-lr-on-plateau.cooldown", 0, 10_000),
                            Checks.doubleIn(c, "train.reduce-lr-on-plateau.min-lr", 0, 1000)),
                    new dev.imgtrain.train.Callbacks.LrDecay(effective.getBoolean("model.lr-decay.enabled"),
                            factor(effective, "model.lr-decay.factor"),
                            Checks.intIn(effective, "model.lr-decay.every", 1, 10_000),
                            Checks.intIn(effective, "model.lr-decay.after", 1, 10_000),
                            Checks.doubleIn(effective, "model.lr-decay.min-lr", 0, 1000)),
                    Checks.oneOf(c, "train.keep-checkpoints", "all", "last", "best"),
                    "last".equals(Checks.oneOf(effective, "model.short-batches", "merge", "last")));
        }

        /** {@code train.prefetch = auto}: see {@link #prefetchFor}. */
        public static final int PREFETCH_AUTO = -1;

        private static int prefetch(Config c) {
            if ("auto".equals(c.getValue("train.prefetch").unwrapped())) {
                return PREFETCH_AUTO;
            }
            return Checks.intIn(c, "train.prefetch", 0, 1_000, "auto or an integer");
        }

        /**
         * Mini-batches each worker loads ahead for batch files at {@code files}: {@code train.prefetch}, or when that is
         * {@code auto}, 0 where every file is on the local file system ({@code file:}; a read from the page cache is
         * quicker than the hand-off to DL4J's loader thread, and the task thread reads into its last batch's arrays)
         * and 2 elsewhere ({@code hdfs:}, {@code s3a:}: the next batches' reads overlap training).
         */
        public int prefetchFor(java.util.List<String> files) {
            if (prefetch != PREFETCH_AUTO) {
                return prefetch;
            }
            return files.stream().allMatch(f -> f.startsWith("file:")) ? 0 : 2;
        }

        /** A learning-rate factor: above 0 and below 1 (Keras refuses 1 and more: the rate would not go down). */
        private static double factor(Config c, String key) {
            double f = Checks.doubleIn(c, key, 0, 1);
            if (f <= 0 || f >= 1) {
                throw new ConfigException(key + " = " + f + ": expected a number above 0 and below 1");
            }
            return f;
        }

        /** Whether a callback watches the validation split (which is the test split at validation-fraction 0). */
        public boolean callbacksActive() {
            return earlyStopping.enabled() || reduceLrOnPlateau.enabled();
        }

        /** A block momentum: a value in [0, 0.99], or {@code auto} = 1 - 1/workers (0 with one worker). */
        private static double blockMomentum(Config c, String key, int workers) {
            if ("auto".equals(c.getValue(key).unwrapped())) {
                return 1.0 - 1.0 / workers;
            }
            return Checks.doubleIn(c, key, 0, 0.99, "auto or a number");
        }
    }

    /**
     * S3A settings ({@code storage.s3a.*}). Empty strings leave S3A's own value (or a {@code spark.hadoop.fs.s3a.*}
     * property) in force. There are deliberately no credential keys: credentials come from S3A's provider chain.
     */
    public record StorageConfig(String endpoint, String region, String pathStyleAccess, String committer,
                                boolean preflight, int retries, java.time.Duration requestTimeout,
                                java.time.Duration staleAfter) {
        /** The settings with every other key at its default (for tests and tools that only name a server). */
        public StorageConfig(String endpoint, String region, String pathStyleAccess, String committer, boolean preflight) {
            this(endpoint, region, pathStyleAccess, committer, preflight, 3, java.time.Duration.ofSeconds(30),
                    java.time.Duration.ofMinutes(10));
        }

        static StorageConfig from(Config c) {
            String endpoint = c.getString("storage.s3a.endpoint").trim();
            if (!endpoint.isEmpty() && !endpoint.matches("(?i)https?://[^/\\s]+/?")) {
                throw new ConfigException("storage.s3a.endpoint = " + endpoint
                        + ": expected an http:// or https:// URL with no path, e.g. http://127.0.0.1:9000");
            }
            return new StorageConfig(endpoint, c.getString("storage.s3a.region").trim(),
                    Checks.oneOf(c, "storage.s3a.path-style-access", "", "true", "false"),
                    Checks.oneOf(c, "storage.s3a.committer", "magic", "directory", "partitioned", "file"),
                    c.getBoolean("storage.s3a.preflight"),
                    Checks.intIn(c, "storage.s3a.retries", 0, 100),
                    Checks.duration(c, "storage.s3a.request-timeout", java.time.Duration.ofSeconds(1)),
                    Checks.duration(c, "storage.stale-after", java.time.Duration.ofSeconds(10)));
        }
    }

    /** Evaluation settings ({@code evaluate.*}). */
    public record EvaluateConfig(String run, int batchSize) {
    }
}
