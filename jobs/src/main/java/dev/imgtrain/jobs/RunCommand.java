package dev.imgtrain.jobs;

import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.evaluate.EvaluateJob;
import dev.imgtrain.train.EvaluationResult;
import dev.imgtrain.ingest.IngestJob;
import dev.imgtrain.preprocess.PreprocessJob;
import dev.imgtrain.report.ReportJob;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.TrainJob;
import dev.imgtrain.train.TrainResult;
import dev.imgtrain.train.TaskProgress;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "The whole pipeline: ingest -> preprocess -> train -> evaluate -> report (ingest and preprocess are "
                + "skipped when the warehouse's features were made from the same archive files). With no options: local "
                + "Spark, ./warehouse, MNIST from ./data/mnist, preset mnist-dense-512, 10 epochs.")
final class RunCommand implements Callable<Integer>, ConfiguredCommand {
    @Mixin
    CommonOptions common = new CommonOptions();
    @Mixin
    TrainOptions train = new TrainOptions();

    @Override
    public PipelineConfig config() {
        return train.apply(common.loader()).load();
    }

    @Override
    public Integer call() {
        PipelineConfig config = config();
        SparkSession spark = Stage.session("run", config);
        Warehouse warehouse = Stage.warehouse(spark, config);
        // As a sweep does: a run again over the same archives (a killed run resumed, a retrain on unchanged data) reuses
        // the features instead of decoding and writing them again (on a YARN cluster with HDFS, 37 s of a resumed MNIST
        // run). `imgtrain ingest` and `imgtrain preprocess` always do their stage.
        if (!IngestJob.upToDate(spark, config.dataset(), config.format(), config.sourceOrDefault(), warehouse, "run")) {
            TaskProgress.during(spark.sparkContext(), "ingest " + config.dataset(),
                    () -> IngestJob.run(spark, config.dataset(), config.format(), config.sourceOrDefault(), warehouse));
            PreprocessJob.run(spark, config.dataset(), warehouse, config.preprocessPartitions());
        }
        TrainResult trained = TrainJob.run(spark, config, warehouse);
        EvaluationResult result = EvaluateJob.run(spark, warehouse, trained.runId(), config.evaluate().batchSize());
        ReportJob.ReportResult report = ReportJob.run(spark, warehouse, trained.runId(), config.evaluate().batchSize());
        System.out.printf("run %s: test accuracy %.4f, loss %.4f on %d examples; outputs in %s; report %s%n",
                trained.runId(), result.accuracy(), result.loss(), result.examples(), trained.runDir(), report.index());
        return 0;
    }
}
