package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.report.ReportJob;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Writes a committed, evaluated run's report to runs/<run-id>/report/index.html (+ PNGs): "
                + "history curves, image grids, test predictions, confusion heat map, network summary, parameters.")
final class ReportCommand implements Callable<Integer>, ConfiguredCommand {
    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--run", paramLabel = "RUN_ID", description = "The run to report on (config: evaluate.run).")
    String run;

    @Override
    public PipelineConfig config() {
        PipelineConfig config = common.loader().withFlag("evaluate.run", run).load();
        if (config.evaluate().run().isEmpty()) {
            throw new ConfigException("report needs a run: --run RUN_ID (or evaluate.run)");
        }
        return config;
    }

    @Override
    public Integer call() {
        PipelineConfig config = config();
        SparkSession spark = Stage.session("report", config);
        ReportJob.ReportResult result = ReportJob.run(spark, Stage.warehouse(spark, config), config.evaluate().run(),
                config.evaluate().batchSize());
        System.out.printf("run %s: report in %s%n", result.runId(), result.index());
        return 0;
    }
}
