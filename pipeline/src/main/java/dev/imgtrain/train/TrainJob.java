package dev.imgtrain.train;

import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.model.FusedNetwork;
import dev.imgtrain.model.NetworkFactory;
import dev.imgtrain.preprocess.DatasetReader;
import dev.imgtrain.store.BuildInfo;
import dev.imgtrain.store.Lease;
import dev.imgtrain.model.ModelStore;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.DiskSpace;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Train: the features table → {@code runs/<run-id>/} by DL4J's parameter averaging
 * ({@link ParameterAveragingTrainingMaster}) across Spark workers. Executor tasks write the train split's mini-batches
 * once, shuffled by the seed, as files under the warehouse's {@code _tmp/} ({@link MiniBatches#export}); every epoch
 * is DL4J's {@code fitPaths} over them (DL4J's own "export" approach, with the export done by us so that it works with
 * any master and warehouse file system, and is reproducible). The driver holds only the network and the file names.
 * Writes params.json first, metrics.jsonl after every epoch, checkpoints, model.zip, and {@code _SUCCESS} last: a run
 * without it is incomplete.
 */
public final class TrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);
    private static final DateTimeFormatter RUN_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private TrainJob() {
    }

    /**
     * Asked after each epoch (after the callbacks) whether the run goes on: a stop reason, or null to go on. A sweep's
     * ASHA strategy is one. It must answer the same for an epoch it was asked about before (a resumed run asks again).
     */
    public interface EpochGate {
        /**
         * The answer that pauses the run: this epoch's metrics and checkpoint are written, nothing is committed, and the
         * same configuration run again resumes after it (and asks again about this epoch first).
         */
        String PAUSE = "\u0000pause";

        String afterEpoch(String runId, EpochMetrics epoch);
    }

    /**
     * Mini-batch files shared by runs that would write the same ones (a sweep's trials with the same split, seed,
     * subset, batch size and workers): {@code export} writes them into a directory the provider owns, once per key;
     * later runs with that key get the same files. The files are a function of the key alone (see
     * {@link MiniBatches#export}), so a run trains on exactly what it would have written itself. Likewise a frame read
     * again and again (the validation split): {@code persisted} gives it persisted, once for all runs with a frame of
     * the same meaning, and unpersists it when the provider is closed; and a frame's row count ({@code count}), counted
     * once for all runs with a frame of the same meaning (the train split: a Spark job over the whole features table).
     */
    public interface SharedBatches {
        List<String> files(String key, java.util.function.Function<Path, List<String>> export);

        Dataset<Row> persisted(Dataset<Row> frame);

        long count(Dataset<Row> frame);
    }

    public static TrainResult run(SparkSession spark, PipelineConfig config, Warehouse warehouse) {
        return run(spark, config, warehouse, null, null);
    }

    public static TrainResult run(SparkSession spark, PipelineConfig config, Warehouse warehouse, EpochGate gate) {
        return run(spark, config, warehouse, gate, null);
    }

    public static TrainResult run(SparkSession spark, PipelineConfig config, Warehouse warehouse, EpochGate gate,
                                  SharedBatches shared) {
        PipelineConfig.TrainConfig tc = config.train();
        DatasetManifest manifest = DatasetReader.featuresManifest(warehouse, config.dataset());
        String runId = tc.runId().isEmpty()
                ? config.dataset() + "-" + tc.preset() + "-" + RUN_TIME.format(Instant.now()) : tc.runId();
        Lease lock;
        try {
            lock = Lease.acquire(warehouse, warehouse.runLock(runId), "train " + runId);
        } catch (Lease.HeldException held) {
            throw new IllegalStateException("run '" + runId + "' is being trained by another process: "
                    + held.holder().describe() + " (lock " + warehouse.runLock(runId) + "); wait for it to finish, or "
                    + "pick another --run-id", held);
        }
        // A holder stopped past storage.stale-after and taken over finds out at its next heartbeat: it cancels its
        // Spark jobs, and every write below first checks that the lock is still its own (Lease.verify).
        lock.onLost(() -> spark.sparkContext().cancelAllJobs());
        try (lock) {
            return locked(spark, config, warehouse, manifest, runId, lock, gate, shared);
        } catch (Exception e) { // SparkException (a cancelled job) is checked, though Scala does not declare it
            Lease.LostException lost = lock.lost();
            if (lost != null && lost != e) {
                lost.addSuppressed(e);
                throw lost;
            }
            throw e;
        }
    }

    private static TrainResult locked(SparkSession spark, PipelineConfig config, Warehouse warehouse,
                                      DatasetManifest manifest, String runId, Lease lock, EpochGate gate,
                                      SharedBatches shared) {
        PipelineConfig.TrainConfig tc = config.train();
        Path runDir = warehouse.runDir(runId);
        boolean committed = warehouse.committed(runDir);
        if (committed && !tc.fresh() && tc.ifCommitted().equals("skip")) {
            LOG.info("train {}: already committed at {}; train.if-committed = skip: not training again", runId, runDir);
            return committed(warehouse, runId, runDir);
        }
        if (committed && !tc.fresh()) {
            throw new IllegalStateException("run '" + runId + "' is already committed at " + runDir + "; --fresh trains "
                    + "it again, --if-committed skip exits 0 without training, or pick another --run-id");
        }
        Resume resume = null;
        if (warehouse.exists(runDir)) {
            if (tc.fresh()) {
                LOG.info("train {}: --fresh: removing {} and training from epoch 1", runId, runDir);
                warehouse.delete(runDir);
            } else {
                resume = Resume.find(warehouse, runDir, config);
            }
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        if (resume == null) {
            writeParams(warehouse, runDir, runId, config, manifest, spark);
        }
        Resume from = resume;

        Dataset<Row> features = spark.read().parquet(warehouse.featuresDir(config.dataset()).toString());
        Splits read = Splits.of(features, tc);
        long trainExamples = shared != null ? shared.count(read.train()) : read.train().count();
        // Validated after every epoch: kept by Spark after its first read rather than read and filtered out of the
        // whole train split again each time (a tenth of MNIST's train is 19 MB of floats). A sweep's trials share it.
        Splits splits = new Splits(read.train(), shared != null ? shared.persisted(read.validation())
                : read.validation().persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK()), read.validationName());

        java.util.function.Function<Path, List<String>> export = exportDir -> {
            // One writing task per worker, whatever the cluster: the same batches (and run) on local[2] and a cluster.
            jsc.setJobDescription("train " + runId + ": write mini-batches of " + tc.batchSizePerWorker()
                    + " to " + exportDir);
            // Batch files hold the features and one-hot labels as floats (a killed MNIST run left 184 MB).
            DiskSpace.require(warehouse, exportDir, "the mini-batch files of run " + runId,
                    trainExamples * (manifest.features() + manifest.numClasses()) * 4L);
            long exportStart = System.nanoTime();
            List<String> written = TaskProgress.during(jsc.sc(), "train " + runId + ": mini-batch files",
                    () -> MiniBatches.export(splits.train(), tc.batchSizePerWorker(), tc.workers(), tc.seed(),
                            exportDir, jsc.hadoopConfiguration()));
            LOG.info("train {}: {} mini-batch files of up to {} examples written in {} s", runId, written.size(),
                    tc.batchSizePerWorker(), String.format("%.1f", (System.nanoTime() - exportStart) / 1e9));
            return written;
        };
        try {
            if (shared != null) {
                long start = System.nanoTime();
                List<String> files = shared.files(batchesKey(config), export);
                double batchSeconds = (System.nanoTime() - start) / 1e9;
                return fit(config, manifest, warehouse, runId, runDir, splits, trainExamples, batchSeconds, files, jsc, from,
                        lock, gate);
            }
            return Scratch.use(warehouse, spark.sparkContext(), "batches-" + runId, exportDir -> {
                long start = System.nanoTime();
                List<String> files = export.apply(exportDir);
                double batchSeconds = (System.nanoTime() - start) / 1e9;
                return fit(config, manifest, warehouse, runId, runDir, splits, trainExamples, batchSeconds, files, jsc, from,
                        lock, gate);
            });
        } finally {
            if (shared == null) {
                splits.validation().unpersist();
            }
            jsc.setJobDescription(null);
        }
    }

    /**
     * What a run's mini-batch files depend on: the dataset, the train split (validation fraction and seed), the subset,
     * the batch size per worker and the workers. Runs with the same key write the same files.
     */
    public static String batchesKey(PipelineConfig config) {
        PipelineConfig.TrainConfig tc = config.train();
        return config.dataset() + "-v" + tc.validationFraction() + "-s" + tc.seed() + "-m" + tc.maxExamples() + "-b"
                + tc.batchSizePerWorker() + "-w" + tc.workers();
    }

    /** A committed run as a result, from its files (its metrics.jsonl). */
    private static TrainResult committed(Warehouse warehouse, String runId, Path runDir) {
        List<EpochMetrics> epochs = EpochMetrics.lines(warehouse, runDir).stream().map(EpochMetrics::parse).toList();
        long examples = epochs.isEmpty() ? 0 : epochs.get(0).examples();
        return new TrainResult(runId, runDir.toString(), examples, 0, epochs, 0);
    }

    /** The epochs: parameter averaging over the mini-batch files at {@code paths}, then the commit. */
    private static TrainResult fit(PipelineConfig config, DatasetManifest manifest, Warehouse warehouse, String runId,
                                   Path runDir, Splits splits, long trainExamples, double batchSeconds,
                                   List<String> files, JavaSparkContext jsc, Resume resume, Lease lock, EpochGate gate) {
        PipelineConfig.TrainConfig tc = config.train();
        MultiLayerNetwork network = NetworkFactory.network(config.model(), manifest.features(), manifest.numClasses(), tc.seed());
        int firstEpoch = 1;
        double initialLr = config.model().updater().learningRate();
        Callbacks callbacks = new Callbacks(tc.earlyStopping(), tc.reduceLrOnPlateau(), tc.lrDecay(), initialLr);
        boolean stoppedBefore = false;
        if (tc.callbacksActive() && tc.validationFraction() == 0) {
            List<String> active = new ArrayList<>();
            if (tc.earlyStopping().enabled()) {
                active.add("early-stopping");
            }
            if (tc.reduceLrOnPlateau().enabled()) {
                active.add("reduce-lr-on-plateau");
            }
            LOG.warn("train {}: {} watch{} the test split (train.validation-fraction = 0): that tunes on the test set, and "
                            + "the test accuracy then overstates; set train.validation-fraction (e.g. 0.1) to hold out part of train",
                    runId, String.join(" and ", active), active.size() > 1 ? "" : "es");
        }
        BlockMomentum momentum = new BlockMomentum(tc.blockMomentum(), tc.blockLearningRate(), tc.blockNesterov());
        if (resume != null) {
            resume.restore(network);
            if (momentum.active()) {
                resume.restore(warehouse, momentum, network.numParams());
            }
            firstEpoch = resume.epoch() + 1;
            LOG.info("train {}: resuming after epoch {} from {} ({} epochs asked)", runId, resume.epoch(),
                    resume.checkpoint(), tc.epochs());
            // The callbacks decide from the epochs' metrics alone: replaying them gives their state (counters, best
            // epoch, learning rate) as the uninterrupted run had it.
            callbacks = Callbacks.replay(tc.earlyStopping(), tc.reduceLrOnPlateau(), tc.lrDecay(), initialLr,
                    resume.metrics()).callbacks();
            if (callbacks.learningRate() != initialLr) {
                network.setLearningRate(callbacks.learningRate());
                LOG.info("train {}: learning rate {} (the learning-rate rules, from the epochs before)", runId,
                        Callbacks.number(callbacks.learningRate()));
            }
            EpochMetrics last = resume.metrics().get(resume.metrics().size() - 1);
            stoppedBefore = last.stopReason() != null;
        }
        RoundTrainingMaster master = new RoundTrainingMaster(new ParameterAveragingTrainingMaster.Builder(tc.workers(), tc.batchSizePerWorker())
                .batchSizePerWorker(tc.batchSizePerWorker())
                .averagingFrequency(tc.averagingFrequency())
                .workerPrefetchNumBatches(tc.prefetchFor(files))
                .saveUpdater(true)
                .rngSeed(tc.seed())
                // Each round's paths come with one partition per worker (see rounds()). DL4J's default
                // (Repartition.Always) would shuffle them again, and a shuffle's block order differs between cluster
                // runs, so the workers' batch order (and the model) did.
                .repartionData(Repartition.NumPartitionsWorkersDiffers),
                network instanceof FusedNetwork);
        TrainingHistory history = TrainingHistory.register(jsc.sc(), runId);
        master.addHook(history);
        SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(jsc, network, master);
        TrainingStats.useSystemClockUnlessSet();
        sparkNet.setCollectTrainingStats(tc.collectStats());
        List<Map<String, Object>> stats = new ArrayList<>();
        LOG.info("train {}: {} on {} ({} examples, {} features, {} classes), {} epochs, {} workers, batch {} per worker, "
                        + "averaging every {}, prefetch {}{}", runId, tc.preset(), config.dataset(), trainExamples,
                manifest.features(), manifest.numClasses(), tc.epochs(), tc.workers(), tc.batchSizePerWorker(),
                tc.averagingFrequency(), master.getPrefetchNumBatches(),
                tc.prefetch() == PipelineConfig.TrainConfig.PREFETCH_AUTO ? " (auto)" : "");

        List<EpochMetrics> metrics = new ArrayList<>(resume == null ? List.of() : resume.metrics());
        List<Integer> prefetch = new ArrayList<>();
        StringBuilder jsonl = new StringBuilder(resume == null ? "" : resume.jsonl());
        long epochsStarted = System.nanoTime();
        if (resume != null && gate != null && !stoppedBefore && resume.epoch() < tc.epochs()) {
            // A paused run (a sweep's ASHA rung) asks again about the epoch it paused after: go on, stop there, or wait.
            EpochMetrics last = metrics.get(metrics.size() - 1);
            String again = gate.afterEpoch(runId, last);
            if (EpochGate.PAUSE.equals(again)) {
                LOG.info("train {}: still paused after epoch {}", runId, last.epoch());
                return new TrainResult(runId, runDir.toString(), trainExamples, batchSeconds, metrics, 0, true);
            }
            if (again != null) {
                metrics.set(metrics.size() - 1, last.last(again, callbacks.restoredEpoch(last.epoch())));
                jsonl.setLength(0);
                for (EpochMetrics m : metrics) {
                    jsonl.append(jsonLine(m)).append('\n');
                }
                lock.verify();
                warehouse.writeText(new Path(runDir, "metrics.jsonl"), jsonl.toString());
                LOG.info("train {}: stopping after epoch {}/{}: {}", runId, last.epoch(), tc.epochs(), again);
                stoppedBefore = true;
                firstEpoch = last.epoch() + 1;
            }
        }
        if (momentum.active()) {
            momentum.start(network);
            LOG.info("train {}: block momentum {} (block learning rate {}, {}) after each averaging", runId,
                    tc.blockMomentum(), tc.blockLearningRate(), tc.blockNesterov() ? "Nesterov" : "classic");
        }
        org.nd4j.linalg.api.ndarray.INDArray bestParams = null; // restore-best-weights without checkpoints
        int lastEpoch = stoppedBefore ? firstEpoch - 1 : tc.epochs();
        boolean paused = false;
        try (Progress progress = Progress.of(Progress.mode(config.progress()), LOG)) {
            for (int epoch = firstEpoch; epoch <= tc.epochs() && !stoppedBefore; epoch++) {
                jsc.setJobDescription("train " + runId + ": epoch " + epoch + "/" + tc.epochs());
                long start = System.nanoTime();
                long startMillis = System.currentTimeMillis();
                long[] gcBefore = TrainingStats.collections();
                prefetch.add(master.getPrefetchNumBatches());
                List<List<String>> epochRounds = rounds(files, tc, epoch);
                BatchFileLoader loader = new BatchFileLoader((long) tc.batchCacheMb() << 20,
                        master.getPrefetchNumBatches() == 0);
                progress.start("epoch " + epoch + "/" + tc.epochs(), epochRounds.size(), "rounds");
                long seen = 0;
                TrainingStats.Rounds roundTimes = new TrainingStats.Rounds();
                for (List<String> round : epochRounds) {
                    // Spark slices the list into contiguous, equal parts: averaging-frequency files per worker.
                    JavaRDD<String> paths = jsc.parallelize(round, Math.min(tc.workers(), round.size()));
                    long roundMillis = System.currentTimeMillis();
                    long roundStart = System.nanoTime();
                    sparkNet.fitPaths(master.withKnownCount(paths, round.size()), loader);
                    if (tc.collectStats()) {
                        roundTimes.add(sparkNet.getSparkTrainingStats(), roundMillis,
                                (System.nanoTime() - roundStart) / 1_000_000);
                    }
                    if (momentum.active()) {
                        momentum.afterRound(sparkNet.getNetwork());
                    }
                    TrainingHistory.Epoch sofar = history.peek();
                    progress.advance(1, sofar.examples() - seen, sofar.loss());
                    seen = sofar.examples();
                }
                progress.finish();
                double seconds = (System.nanoTime() - start) / 1e9;
                long[] gcAfter = TrainingStats.collections();
                TrainingHistory.Epoch fitted = history.take();
                if (epoch == firstEpoch && master.getPrefetchNumBatches() > 0 && jsc.isLocal() && BatchCache.holdsAll(files)) {
                    // Local master: the executors are this JVM, and its batch cache now holds every batch, so later
                    // epochs read them from memory. Prefetching then only adds a hand-off to DL4J's loader thread per
                    // batch (0.2-0.3 ms of a 2.5 ms batch on a 2-core machine, training-stats.json); off from here.
                    master.setPrefetchNumBatches(0);
                    LOG.info("train {}: all {} mini-batches are in the batch cache; prefetch off from epoch 2", runId,
                            files.size());
                }
                if (tc.collectStats()) {
                    Map<String, Object> epochStats = new LinkedHashMap<>();
                    epochStats.put("epoch", epoch);
                    epochStats.put("rounds", roundTimes.toMap());
                    epochStats.put("driver_gc", TrainingStats.collectionsBetween(gcBefore, gcAfter));
                    epochStats.putAll(TrainingStats.summarise(sparkNet.getSparkTrainingStats(), startMillis));
                    stats.add(epochStats);
                    Map<String, Object> file = new LinkedHashMap<>();
                    file.put("run_id", runId);
                    file.putAll(effectiveTraining(tc));
                    file.put("batch_files_seconds", batchSeconds);
                    file.put("prefetch_per_epoch", prefetch);
                    file.put("total", TrainingStats.summarise(sparkNet.getSparkTrainingStats(), 0));
                    file.put("epochs", stats);
                    lock.verify();
                    warehouse.writeJson(new Path(runDir, "training-stats.json"), file);
                }
                jsc.setJobDescription("train " + runId + ": validate epoch " + epoch + "/" + tc.epochs());
                EvaluationResult val = DistributedEvaluator.evaluate(splits.validation(), sparkNet.getNetwork(),
                        manifest.classes(), config.evaluate().batchSize());
                EpochMetrics m = new EpochMetrics(epoch, fitted.loss(), fitted.accuracy(), fitted.examples(), val.loss(),
                        val.accuracy(), seconds, fitted.examples() / seconds, callbacks.learningRate(), null, null);
                // What comes after this epoch: the callbacks, stop-at-accuracy, then the gate (a sweep's ASHA).
                Callbacks.Decision decision = callbacks.afterEpoch(m);
                String stop = decision.stop();
                if (stop == null && tc.stopAtAccuracy() > 0 && m.valAccuracy() >= tc.stopAtAccuracy()) {
                    stop = "stop-at-accuracy: val_accuracy " + fmt(m.valAccuracy()) + " reached train.stop-at-accuracy = "
                            + tc.stopAtAccuracy();
                }
                if (stop == null && gate != null) {
                    stop = gate.afterEpoch(runId, m);
                    if (EpochGate.PAUSE.equals(stop)) {
                        stop = null;
                        paused = epoch < tc.epochs();
                    }
                }
                boolean ends = epoch == tc.epochs() || stop != null;
                if (epoch == tc.epochs()) {
                    stop = null; // every epoch asked for was trained
                }
                if (ends) {
                    lastEpoch = epoch;
                    m = m.last(stop, callbacks.restoredEpoch(epoch));
                }
                if (callbacks.restoreBestWeights() && !tc.checkpoints() && callbacks.bestEpoch() == epoch) {
                    bestParams = sparkNet.getNetwork().params().dup();
                }
                metrics.add(m);
                jsonl.append(jsonLine(m)).append('\n');
                lock.verify();
                warehouse.writeText(new Path(runDir, "metrics.jsonl"), jsonl.toString());
                if (tc.checkpoints()) {
                    Path checkpoint = checkpointFile(runDir, epoch);
                    if (momentum.active()) {
                        // Before the checkpoint: a checkpoint that exists has its block momentum beside it.
                        byte[] state = momentum.state();
                        DiskSpace.require(warehouse, checkpoint.getParent(), blockMomentumFile(checkpoint).getName(),
                                state.length + 4096L);
                        warehouse.writeAtomically(blockMomentumFile(checkpoint), state);
                    }
                    ModelStore.save(warehouse, checkpoint, sparkNet.getNetwork());
                    pruneCheckpoints(warehouse, runDir, keptCheckpoints(tc, callbacks, epoch, false));
                }
                LOG.info("epoch {}/{}: loss {}, accuracy {}, val_loss {}, val_accuracy {} ({}), {} s, {} examples/s{}",
                        epoch, tc.epochs(), fmt(m.loss()), fmt(m.accuracy()), fmt(m.valLoss()), fmt(m.valAccuracy()),
                        splits.validationName(),
                        String.format("%.1f", seconds), String.format("%.0f", m.examplesPerSecond()),
                        callbacks.active() ? ", lr " + Callbacks.number(m.lr()) : "");
                if (stop != null) {
                    LOG.info("train {}: stopping after epoch {}/{}: {}", runId, epoch, tc.epochs(), stop);
                    break;
                }
                if (paused) {
                    LOG.info("train {}: paused after epoch {}/{} (nothing committed; run again, it resumes here)", runId,
                            epoch, tc.epochs());
                    return new TrainResult(runId, runDir.toString(), trainExamples, batchSeconds, metrics, epochsStarted, true);
                }
                if (decision.lrChange() != null) {
                    sparkNet.getNetwork().setLearningRate(decision.nextLr());
                    LOG.info("train {}: {} (from epoch {} on)", runId, decision.lrChange(), epoch + 1);
                }
            }
            EpochMetrics last = metrics.get(metrics.size() - 1);
            if (last.restoredEpoch() != null) {
                int best = last.restoredEpoch();
                Path bestCheckpoint = checkpointFile(runDir, best);
                if (tc.checkpoints() && warehouse.exists(bestCheckpoint)) {
                    sparkNet.getNetwork().setParams(ModelStore.load(warehouse, bestCheckpoint).params());
                } else if (bestParams != null) {
                    sparkNet.getNetwork().setParams(bestParams);
                } else {
                    throw new IllegalStateException("train " + runId + ": restore-best-weights needs epoch " + best
                            + "'s weights, but " + bestCheckpoint + " is gone; --fresh trains the run again");
                }
                LOG.info("train {}: restore-best-weights: the model is epoch {}'s ({} {} against {} after epoch {})",
                        runId, best, tc.earlyStopping().monitor(), fmt(Callbacks.value(metrics.get(best - 1), tc.earlyStopping().monitor())),
                        fmt(Callbacks.value(last, tc.earlyStopping().monitor())), last.epoch());
            }
            lock.verify();
            ModelStore.save(warehouse, new Path(runDir, "model.zip"), sparkNet.getNetwork());
            if (tc.checkpoints()) {
                pruneCheckpoints(warehouse, runDir, keptCheckpoints(tc, callbacks, lastEpoch, true));
            }
            warehouse.writeText(new Path(runDir, "_SUCCESS"), "");
            LOG.info("train {}: committed {}", runId, runDir);
            return new TrainResult(runId, runDir.toString(), trainExamples, batchSeconds, metrics, epochsStarted);
        }
    }

    /**
     * The epochs whose checkpoints train.keep-checkpoints keeps after epoch {@code epoch} (null: all). Before the commit
     * the latest stays (a resume needs it), and the best epoch's while restore-best-weights needs it.
     */
    static java.util.Set<Integer> keptCheckpoints(PipelineConfig.TrainConfig tc, Callbacks callbacks, int epoch,
                                                  boolean committing) {
        java.util.Set<Integer> kept = new java.util.TreeSet<>();
        switch (tc.keepCheckpoints()) {
            case "last" -> {
                kept.add(epoch);
                if (!committing && callbacks.restoreBestWeights()) {
                    kept.add(callbacks.bestEpoch());
                }
            }
            case "best" -> {
                kept.add(callbacks.bestEpoch());
                if (!committing) {
                    kept.add(epoch);
                }
            }
            default -> {
                return null;
            }
        }
        return kept;
    }

    /** A checkpoint or a file beside it (epoch-N.zip, epoch-N.zip.sha256, epoch-N.block-momentum.bin). */
    private static final java.util.regex.Pattern CHECKPOINT_FILE = java.util.regex.Pattern.compile("epoch-(\\d+)\\..*");

    /** Removes the checkpoints (epoch-N.zip and the files beside it) of the epochs not in {@code kept} (null: none). */
    private static void pruneCheckpoints(Warehouse warehouse, Path runDir, java.util.Set<Integer> kept) {
        if (kept == null) {
            return;
        }
        Path dir = new Path(runDir, "checkpoints");
        try {
            if (!warehouse.exists(dir)) {
                return;
            }
            for (org.apache.hadoop.fs.FileStatus f : warehouse.fs().listStatus(dir)) {
                java.util.regex.Matcher m = CHECKPOINT_FILE.matcher(f.getPath().getName());
                if (m.matches() && !kept.contains(Integer.parseInt(m.group(1)))) {
                    warehouse.deleteQuietly(f.getPath());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }

    /** One line of metrics.jsonl. */
    private static String jsonLine(EpochMetrics m) {
        try {
            return Warehouse.JSON.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A run's checkpoint after {@code epoch}: checkpoints/epoch-N.zip. */
    static Path checkpointFile(Path runDir, int epoch) {
        return new Path(runDir, "checkpoints/epoch-" + epoch + ".zip");
    }

    /** The block momentum state saved beside {@code checkpoint} (epoch-N.zip: epoch-N.block-momentum.bin). */
    static Path blockMomentumFile(Path checkpoint) {
        return new Path(checkpoint.getParent(), checkpoint.getName().replace(".zip", ".block-momentum.bin"));
    }

    /**
     * One epoch's averaging rounds: the batch files in a seeded order that changes every epoch (with
     * {@code model.short-batches = last}, the short ones at its end), cut into rounds of
     * {@code averaging-frequency} files per worker (the last round smaller).
     * Handing DL4J one round per {@code fitPaths} call keeps every file in the epoch: DL4J's own split of a larger
     * set rounds the number of splits down, and a worker fits at most {@code averaging-frequency} files of its split
     * and skips the rest (with one split of 79 files, two workers fitted 40 of them).
     */
    static List<List<String>> rounds(List<String> files, PipelineConfig.TrainConfig tc, int epoch) {
        List<String> order = new ArrayList<>(files);
        java.util.Collections.shuffle(order, new java.util.Random(tc.seed() * 1_000_003L + epoch));
        if (tc.shortBatchesLast()) {
            // model.short-batches = last: the short files (each export task's last) at the end, so that DL4J's worker
            // never re-cuts the full files after one (MiniBatches.isPartial).
            List<String> partial = order.stream().filter(MiniBatches::isPartial).toList();
            order.removeIf(MiniBatches::isPartial);
            order.addAll(partial);
        }
        List<List<String>> rounds = new ArrayList<>();
        int perRound = tc.workers() * tc.averagingFrequency();
        for (int from = 0; from < order.size(); from += perRound) {
            rounds.add(new ArrayList<>(order.subList(from, Math.min(order.size(), from + perRound))));
        }
        return rounds;
    }

    /** The values training uses where the configuration may say 0 (= the preset's, split over the workers). */
    private static Map<String, Object> effectiveTraining(PipelineConfig.TrainConfig tc) {
        Map<String, Object> effective = new LinkedHashMap<>();
        effective.put("workers", tc.workers());
        effective.put("batch_size_per_worker", tc.batchSizePerWorker());
        effective.put("averaging_frequency", tc.averagingFrequency());
        effective.put("block_momentum", tc.blockMomentum());
        return effective;
    }

    private static String fmt(double v) {
        return String.format("%.4f", v);
    }

    private static void writeParams(Warehouse warehouse, Path runDir, String runId, PipelineConfig config,
                                    DatasetManifest manifest, SparkSession spark) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("run_id", runId);
        params.put("created_at", Instant.now().toString());
        params.put("dataset", config.dataset());
        params.put("preset", config.train().preset());
        params.put("training", effectiveTraining(config.train()));
        try {
            params.put("config", Warehouse.JSON.readTree(config.rendered()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        params.put("dataset_sources", manifest.sources());
        params.put("dataset_counts", manifest.counts());
        Map<String, String> versions = new LinkedHashMap<>(BuildInfo.versions());
        versions.put("spark", spark.version());
        params.put("versions", versions);
        params.put("spark_master", spark.sparkContext().master());
        params.put("spark_app_id", spark.sparkContext().applicationId());
        warehouse.writeJson(new Path(runDir, "params.json"), params);
    }

    /** The test split's name where the validation split is the test split (validation fraction 0). */
    public static final String TEST_SPLIT = "test split";

    /** The validation split's name in logs and leaderboards: "hold-out 0.1 of train", or {@link #TEST_SPLIT}. */
    public static String validationName(double fraction) {
        return fraction > 0 ? "hold-out " + fraction + " of train" : TEST_SPLIT;
    }

    /** Train and validation frames: a deterministic hold-out of train, or the test split when the fraction is 0. */
    record Splits(Dataset<Row> train, Dataset<Row> validation, String validationName) {
        static Splits of(Dataset<Row> features, PipelineConfig.TrainConfig tc) {
            Dataset<Row> train = features.where(col("split").equalTo("train"));
            Dataset<Row> validation;
            if (tc.validationFraction() > 0) {
                int buckets = 10_000;
                var bucket = pmod(xxhash64(col("id"), lit(tc.seed())), lit(buckets));
                long cut = Math.round(tc.validationFraction() * buckets);
                validation = train.where(bucket.lt(cut));
                train = train.where(bucket.geq(cut));
            } else {
                validation = features.where(col("split").equalTo("test"));
            }
            if (tc.maxExamples() > 0) {
                train = train.orderBy("id").limit(tc.maxExamples());
            }
            return new Splits(train, validation, TrainJob.validationName(tc.validationFraction()));
        }
    }
}
