package dev.imgtrain.jobs;

import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.train.TrainJob;
import dev.imgtrain.train.TrainResult;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains the preset network by parameter averaging into <warehouse>/runs/<run-id>/.")
final class TrainCommand implements Callable<Integer>, ConfiguredCommand {
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
        SparkSession spark = Stage.session("train", config);
        TrainResult result = TrainJob.run(spark, config, Stage.warehouse(spark, config));
        System.out.println("trained run " + result.runId() + " at " + result.runDir());
        return 0;
    }
}
