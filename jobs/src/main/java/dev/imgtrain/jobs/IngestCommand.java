package dev.imgtrain.jobs;

import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.ingest.IngestJob;
import dev.imgtrain.train.TaskProgress;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = "Decodes the dataset's archives into <warehouse>/datasets/<dataset>/raw/ and _dataset.json.")
final class IngestCommand implements Callable<Integer>, ConfiguredCommand {
    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public PipelineConfig config() {
        return common.loader().load();
    }

    @Override
    public Integer call() {
        PipelineConfig config = config();
        SparkSession spark = Stage.session("ingest", config);
        DatasetManifest manifest = TaskProgress.during(spark.sparkContext(), "ingest " + config.dataset(),
                () -> IngestJob.run(spark, config.dataset(), config.format(), config.sourceOrDefault(),
                        Stage.warehouse(spark, config)));
        System.out.println("ingested " + manifest.name() + ": " + manifest.counts());
        return 0;
    }
}
