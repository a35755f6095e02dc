package dev.imgtrain.sweep;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgtrain.config.ConfigException;
import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.evaluate.EvaluateJob;
import dev.imgtrain.ingest.IngestJob;
import dev.imgtrain.preprocess.PreprocessJob;
import dev.imgtrain.report.ReportJob;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.TrainJob;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * Sweep: every trial of a {@link SweepSpec} as a normal run ({@code runs/<trial-run-id>/}: train, evaluate, report),
 * then {@code sweeps/<id>/}: the spec as given, the leaderboard (CSV, JSON, Parquet) and the comparison page.
 *
 * <p>Every trial's configuration is built and checked before anything is written. Ingest and preprocess run once per
 * sweep, and not at all when no trial is left to train or when the warehouse's features were made from the very
 * archives at the source ({@link IngestJob#notUpToDate}). A trial whose run is already committed and evaluated is
 * skipped, so running a sweep again (after a kill, or after adding values to its grid) runs only what is missing; an
 * uncommitted run left by a killed trial resumes from its last epoch checkpoint (or starts over without one). A failed trial is recorded
 * ({@code sweeps/<id>/failed/<run-id>.json}, its one-line reason) and the sweep goes on. Up to {@code parallel}
 * trials run at once, as concurrent jobs of this one Spark application.
 */
public final class SweepJob {
    private static final Logger LOG = LoggerFactory.getLogger(SweepJob.class);
    /**
     * The share of the training set a trial holds out for validation when neither the spec nor the command sets
     * {@code train.validation-fraction}: the leaderboard ranks on it, never on the test split.
     */
    public static final double VALIDATION_FRACTION = 0.1;

    private SweepJob() {
    }

    /** What a sweep did: its trials' outcome this time, and where the leaderboard and page are. */
    public record SweepResult(String sweepId, int trials, int skipped, int trained, int failed, String bestRunId,
                              String page) {
    }

    public static Path sweepDir(Warehouse warehouse, String sweepId) {
        return new Path(warehouse.root(), "sweeps/" + sweepId);
    }

    /**
     * Each trial's configuration: {@code base} (the defaults, {@code --config}, {@code --set} and the command's
     * flags), the spec's dataset unless a flag named one, its shared settings, the trial's parameters, its run id.
     * Throws {@link ConfigException} naming the trial and the key for the first one that does not check.
     */
    public static Map<SweepSpec.Trial, PipelineConfig> configs(SweepSpec spec, Supplier<ConfigLoader> base,
                                                              String datasetFlag) {
        Map<SweepSpec.Trial, PipelineConfig> configs = new LinkedHashMap<>();
        for (SweepSpec.Trial trial : spec.trials()) {
            ConfigLoader loader = base.get();
            if (datasetFlag == null && spec.dataset() != null) {
                loader.withFlag("dataset", spec.dataset());
            }
            spec.base().forEach(loader::withValue);
            trial.params().forEach(loader::withValue);
            loader.withFlag("train.run-id", trial.runId());
            if (spec.asha() != null) {
                // Every trial trains up to max-epochs unless a rung stops it.
                loader.withValue("train.epochs", com.typesafe.config.ConfigValueFactory.fromAnyRef(spec.asha().maxEpochs()));
            }
            if (!loader.sets("train.validation-fraction")) {
                loader.withValue("train.validation-fraction", com.typesafe.config.ConfigValueFactory.fromAnyRef(VALIDATION_FRACTION));
            }
            PipelineConfig config;
            try {
                config = loader.load();
            } catch (ConfigException e) {
                throw new ConfigException("sweep " + spec.id() + ", trial " + trial.label() + ": " + e.getMessage(), e);
            }
            if (config.train().validationFraction() == 0) {
                throw new ConfigException("sweep " + spec.id() + ": train.validation-fraction = 0 would rank the trials on "
                        + "the test split, and the best trial's test accuracy would then overstate it; give a hold-out of "
                        + "train in (0, 0.5) (a sweep's default is " + VALIDATION_FRACTION + ")");
            }
            configs.put(trial, config);
        }
        PipelineConfig first = configs.values().iterator().next();
        for (PipelineConfig c : configs.values()) {
            if (!c.dataset().equals(first.dataset())) {
                throw new ConfigException("sweep " + spec.id() + ": every trial trains on one dataset; found "
                        + first.dataset() + " and " + c.dataset());
            }
        }
        return configs;
    }

    public static SweepResult run(SparkSession spark, SweepSpec spec, Map<SweepSpec.Trial, PipelineConfig> configs,
                                  Warehouse warehouse, int parallel) {
        long start = System.nanoTime();
        Path dir = sweepDir(warehouse, spec.id());
        PipelineConfig first = configs.values().iterator().next();
        warehouse.writeText(new Path(dir, "spec.conf"), spec.text());

        List<SweepSpec.Trial> pending = new ArrayList<>();
        int skipped = 0;
        for (SweepSpec.Trial trial : spec.trials()) {
            Path runDir = warehouse.runDir(trial.runId());
            if (warehouse.committed(runDir) && warehouse.exists(new Path(runDir, "evaluation.json"))) {
                skipped++;
            } else {
                pending.add(trial);
            }
        }
        LOG.info("sweep {}: {} trials, {} already committed, {} to run{}", spec.id(), spec.trials().size(), skipped,
                pending.size(), pending.isEmpty() ? "" : " (" + Math.min(parallel, pending.size()) + " at a time)");
        if (!pending.isEmpty()) {
            if (!IngestJob.upToDate(spark, first.dataset(), first.format(), first.sourceOrDefault(), warehouse,
                    "sweep " + spec.id())) {
                spark.sparkContext().setJobDescription("sweep " + spec.id() + ": ingest and preprocess " + first.dataset());
                IngestJob.run(spark, first.dataset(), first.format(), first.sourceOrDefault(), warehouse);
                PreprocessJob.run(spark, first.dataset(), warehouse, first.preprocessPartitions());
                spark.sparkContext().setJobDescription(null);
            }
        }
        int failed = 0;
        if (!pending.isEmpty()) {
            try (SweepBatches batches = new SweepBatches(warehouse, spec.id(),
                    EvaluateJob.testSplit(spark, warehouse, first.dataset()))) {
                failed = spec.asha() == null ? runTrials(spark, spec, configs, pending, warehouse, parallel, batches)
                        : runAsha(spark, spec, configs, pending, warehouse, parallel, batches);
            }
        }

        Leaderboard board = Leaderboard.of(spec, warehouse);
        board.write(spark, warehouse, dir);
        Path page = SweepPage.write(spec, board, warehouse, dir);
        ObjectNode summary = Warehouse.JSON.createObjectNode();
        summary.put("sweep_id", spec.id());
        summary.put("dataset", first.dataset());
        summary.put("trials", spec.trials().size());
        summary.put("failed", board.failed());
        summary.put("best_run_id", board.best() == null ? null : board.best().runId());
        summary.put("best_val_accuracy", board.best() == null ? null : board.best().finalValAccuracy());
        summary.putPOJO("swept_keys", spec.sweptKeys());
        summary.put("updated_at", Instant.now().toString());
        warehouse.writeJson(new Path(dir, "sweep.json"), summary);
        LOG.info("sweep {}: {} trials ({} skipped, {} run, {} failed) in {} s; best {}; page {}", spec.id(),
                spec.trials().size(), skipped, pending.size(), failed, String.format("%.1f", (System.nanoTime() - start) / 1e9),
                board.best() == null ? "none" : board.best().runId() + " " + String.format("%.4f", board.best().finalValAccuracy()),
                page);
        return new SweepResult(spec.id(), spec.trials().size(), skipped, pending.size(), board.failed(),
                board.best() == null ? null : board.best().runId(), page.toString());
    }

    private static int runTrials(SparkSession spark, SweepSpec spec, Map<SweepSpec.Trial, PipelineConfig> configs,
                                 List<SweepSpec.Trial> pending, Warehouse warehouse, int parallel,
                                 SweepBatches batches) {
        if (pending.isEmpty()) {
            return 0;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(parallel, pending.size())), r -> {
            Thread t = new Thread(r, "imgtrain-sweep-trial");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Boolean>> outcomes = new ArrayList<>();
            for (int i = 0; i < pending.size(); i++) {
                SweepSpec.Trial trial = pending.get(i);
                String progress = "trial " + (i + 1) + " of " + pending.size();
                outcomes.add(pool.submit(() -> runTrial(spark, spec, trial, configs.get(trial), warehouse, progress, null,
                        batches, true)));
            }
            int failed = 0;
            for (Boolean ok : join(spec, outcomes)) {
                failed += ok ? 0 : 1;
            }
            return failed;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The results of a sweep's concurrent jobs, in order; the first failure of the pool's own (not a trial's) ends it. */
    private static <T> List<T> join(SweepSpec spec, List<Future<T>> futures) {
        List<T> results = new ArrayList<>();
        try {
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("sweep " + spec.id() + " interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("sweep " + spec.id() + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * An ASHA sweep's trials: {@code parallel} slots take jobs from {@link AshaGate} (start a trial, continue a promoted
     * one from its checkpoint, commit a paused one) until it says the sweep is done.
     */
    private static int runAsha(SparkSession spark, SweepSpec spec, Map<SweepSpec.Trial, PipelineConfig> configs,
                               List<SweepSpec.Trial> pending, Warehouse warehouse, int parallel, SweepBatches batches) {
        if (pending.isEmpty()) {
            return 0;
        }
        Map<String, SweepSpec.Trial> byId = new LinkedHashMap<>();
        spec.trials().forEach(t -> byId.put(t.runId(), t));
        java.util.Set<String> done = new java.util.HashSet<>(byId.keySet());
        pending.forEach(t -> done.remove(t.runId()));
        AshaGate asha = new AshaGate(spec.asha(), warehouse, sweepDir(warehouse, spec.id()), List.copyOf(byId.keySet()), done);
        int slots = Math.max(1, Math.min(parallel, pending.size()));
        java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(slots, r -> {
            Thread t = new Thread(r, "imgtrain-asha-slot");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Void>> ended = new ArrayList<>();
            for (int slot = 0; slot < slots; slot++) {
                ended.add(pool.submit(() -> {
                    for (AshaGate.Job job = asha.take(); !job.kind().equals("done"); job = asha.take()) {
                        SweepSpec.Trial trial = byId.get(job.runId());
                        boolean committed = true;
                        try {
                            committed = runTrial(spark, spec, trial, configs.get(trial), warehouse, job.kind() + " "
                                    + job.runId(), asha, batches, failed);
                        } finally {
                            asha.ended(job, committed);
                        }
                    }
                    return null;
                }));
            }
            join(spec, ended);
            return failed.get();
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * One job of an ASHA trial: trains it (it pauses at its next rung, or commits), then, once committed, evaluates
     * and reports it. False when it paused; true when it committed or failed (counted in {@code failed}).
     */
    private static boolean runTrial(SparkSession spark, SweepSpec spec, SweepSpec.Trial trial, PipelineConfig config,
                                    Warehouse warehouse, String progress, AshaGate asha, SweepBatches batches,
                                    java.util.concurrent.atomic.AtomicInteger failed) {
        if (!warehouse.committed(warehouse.runDir(trial.runId()))) {
            try {
                if (TrainJob.run(spark, config, warehouse, asha, batches).paused()) {
                    return false;
                }
            } catch (RuntimeException e) {
                recordFailure(spec, warehouse, trial.runId(), e);
                failed.incrementAndGet();
                return true;
            }
        }
        if (!runTrial(spark, spec, trial, config, warehouse, progress, null, batches,
                !asha.stoppedAtRung(trial.runId()))) {
            failed.incrementAndGet();
        }
        return true;
    }

    /**
     * Trains, evaluates and (with {@code report}) reports one trial; false (and a failure record) when any of it fails.
     * A trial ASHA stopped at a rung gets no report of its own: most of an ASHA sweep's trials stop after an epoch or
     * two, and a report (test predictions, image grids, charts) costs several epochs of a small set; {@code imgtrain
     * report --run ID} makes one when it is wanted.
     */
    private static boolean runTrial(SparkSession spark, SweepSpec spec, SweepSpec.Trial trial, PipelineConfig config,
                                    Warehouse warehouse, String progress, AshaGate gate, SweepBatches batches,
                                    boolean report) {
        String runId = trial.runId();
        Path failure = new Path(sweepDir(warehouse, spec.id()), "failed/" + runId + ".json");
        LOG.info("sweep {}: {}: {} ({})", spec.id(), progress, runId, trial.label());
        try {
            Path runDir = warehouse.runDir(runId);
            if (!warehouse.committed(runDir)) {
                // An uncommitted run (a killed trial) resumes from its last epoch checkpoint, or starts over.
                TrainJob.run(spark, config, warehouse, gate, batches);
            }
            EvaluateJob.run(spark, warehouse, runId, config.evaluate().batchSize(), batches.test());
            if (report) {
                ReportJob.run(spark, warehouse, runId, config.evaluate().batchSize());
            } else {
                LOG.info("sweep {}: {} stopped at an ASHA rung: no report (imgtrain report --run {} makes one)",
                        spec.id(), runId, runId);
            }
            if (warehouse.exists(failure)) {
                warehouse.deleteQuietly(failure);
            }
            return true;
        } catch (RuntimeException e) {
            recordFailure(spec, warehouse, runId, e);
            return false;
        }
    }

    /** {@code sweeps/<id>/failed/<run-id>.json}: the trial's one-line reason, for the leaderboard and a re-run. */
    private static void recordFailure(SweepSpec spec, Warehouse warehouse, String runId, RuntimeException e) {
        String reason = oneLine(e);
        LOG.warn("sweep {}: {} failed: {}", spec.id(), runId, reason);
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("run_id", runId);
        record.put("reason", reason);
        record.put("failed_at", Instant.now().toString());
        warehouse.writeJson(new Path(sweepDir(warehouse, spec.id()), "failed/" + runId + ".json"), record);
    }

    static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replaceAll("\\s*\\n\\s*", " ");
    }
}
