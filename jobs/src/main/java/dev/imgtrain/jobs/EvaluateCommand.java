package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.evaluate.EvaluateJob;
import dev.imgtrain.train.EvaluationResult;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluates a committed run's model on the test split into runs/<run-id>/evaluation.json.")
final class EvaluateCommand implements Callable<Integer>, ConfiguredCommand {
    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--run", paramLabel = "RUN_ID", description = "The run to evaluate (config: evaluate.run).")
    String run;

    @Override
    public PipelineConfig config() {
        PipelineConfig config = common.loader().withFlag("evaluate.run", run).load();
        if (config.evaluate().run().isEmpty()) {
            throw new ConfigException("evaluate needs a run: --run RUN_ID (or evaluate.run)");
        }
        return config;
    }

    @Override
    public Integer call() {
        PipelineConfig config = config();
        SparkSession spark = Stage.session("evaluate", config);
        EvaluationResult result = EvaluateJob.run(spark, Stage.warehouse(spark, config), config.evaluate().run(),
                config.evaluate().batchSize());
        System.out.printf("run %s: test accuracy %.4f, loss %.4f on %d examples%n", result.runId(), result.accuracy(),
                result.loss(), result.examples());
        return 0;
    }
}
