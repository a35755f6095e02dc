package dev.imgtrain.jobs;

import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.preprocess.PreprocessJob;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "preprocess", mixinStandardHelpOptions = true,
        description = "Flattens, scales to [0,1] and one-hot encodes raw/ into <warehouse>/datasets/<dataset>/features/.")
final class PreprocessCommand implements Callable<Integer>, ConfiguredCommand {
    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public PipelineConfig config() {
        return common.loader().load();
    }

    @Override
    public Integer call() {
        PipelineConfig config = config();
        SparkSession spark = Stage.session("preprocess", config);
        long n = PreprocessJob.run(spark, config.dataset(), Stage.warehouse(spark, config), config.preprocessPartitions());
        System.out.println("preprocessed " + config.dataset() + ": " + n + " examples");
        return 0;
    }
}
