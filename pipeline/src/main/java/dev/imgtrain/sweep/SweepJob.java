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
 * sweep (and not at all when no trial is left to train). A trial whose run is already committed and evaluated is
 * skipped, so running a sweep again (after a kill, or after adding values to its grid) runs only what is missing; an
 * uncommitted run left by a killed trial resumes from its last epoch checkpoint (or starts over without one). A failed trial is recorded
 * ({@code sweeps/<id>/failed/<run-id>.json}, its one-line reason) and the sweep goes on. Up to {@code parallel}
 * trials run at once, as concurrent jobs of this one Spark application.
 */
public final class SweepJob {
    private static final Logger LOG = LoggerFactory.getLogger(SweepJob.class);

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
            try {
                configs.put(trial, loader.load());
            } catch (ConfigException e) {
                throw new ConfigException("sweep " + spec.id() + ", trial " + trial.label() + ": " + e.getMessage(), e);
            }
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
            spark.sparkContext().setJobDescription("sweep " + spec.id() + ": ingest and preprocess " + first.dataset());
            IngestJob.run(spark, first.dataset(), first.format(), first.sourceOrDefault(), warehouse);
            PreprocessJob.run(spark, first.dataset(), warehouse, first.preprocessPartitions());
            spark.sparkContext().setJobDescription(null);
        }
        int failed = runTrials(spark, spec, configs, pending, warehouse, parallel);

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
                                 List<SweepSpec.Trial> pending, Warehouse warehouse, int parallel) {
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
                outcomes.add(pool.submit(() -> runTrial(spark, spec, trial, configs.get(trial), warehouse, progress)));
            }
            int failed = 0;
            for (Future<Boolean> outcome : outcomes) {
                failed += outcome.get() ? 0 : 1;
            }
            return failed;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("sweep " + spec.id() + " interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("sweep " + spec.id() + ": " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Trains, evaluates and reports one trial; false (and a failure record) when any of it fails. */
    private static boolean runTrial(SparkSession spark, SweepSpec spec, SweepSpec.Trial trial, PipelineConfig config,
                                    Warehouse warehouse, String progress) {
        String runId = trial.runId();
        Path failure = new Path(sweepDir(warehouse, spec.id()), "failed/" + runId + ".json");
        LOG.info("sweep {}: {}: {} ({})", spec.id(), progress, runId, trial.label());
        try {
            Path runDir = warehouse.runDir(runId);
            if (!warehouse.committed(runDir)) {
                // An uncommitted run (a killed trial) resumes from its last epoch checkpoint, or starts over.
                TrainJob.run(spark, config, warehouse);
            }
            EvaluateJob.run(spark, warehouse, runId, config.evaluate().batchSize());
            ReportJob.run(spark, warehouse, runId, config.evaluate().batchSize());
            if (warehouse.exists(failure)) {
                warehouse.deleteQuietly(failure);
            }
            return true;
        } catch (RuntimeException e) {
            String reason = oneLine(e);
            LOG.warn("sweep {}: {} failed: {}", spec.id(), runId, reason);
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("run_id", runId);
            record.put("reason", reason);
            record.put("failed_at", Instant.now().toString());
            warehouse.writeJson(failure, record);
            return false;
        }
    }

    static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replaceAll("\\s*\\n\\s*", " ");
    }
}
