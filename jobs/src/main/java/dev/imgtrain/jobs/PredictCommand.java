package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.predict.PredictJob;
import dev.imgtrain.train.TaskProgress;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Scores images with a model on the executors: --input is the dataset's archives, a raw Parquet "
                + "table or a folder of PNG/JPEG files (a parent folder named like a class is the label); writes "
                + "<output>/predictions/ (Parquet) and <output>/summary.json. Given one image file, prints its three "
                + "most likely classes instead.")
final class PredictCommand implements Callable<Integer>, ConfiguredCommand {
    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--model", paramLabel = "current|RUN_ID", defaultValue = "current",
            description = "The dataset's current model (imgtrain promote) or a committed run (default ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--input", paramLabel = "DIR_OR_URI", required = true, description = "What to score.")
    String input;

    @Option(names = "--output", paramLabel = "URI", description = "A new directory for predictions/ and summary.json.")
    String output;

    @Option(names = "--split", paramLabel = "all|train|test", defaultValue = "all",
            description = "For archives and raw tables: the split to score (default ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--on-bad-image", paramLabel = "fail|skip", defaultValue = "fail",
            description = "A file that is not an image of the model's size: fail (exit 1, nothing written) or skip it "
                    + "and list it in summary.json (default ${DEFAULT-VALUE}).")
    String onBadImage;

    @Override
    public PipelineConfig config() {
        if (!List.of("fail", "skip").contains(onBadImage)) {
            throw new ConfigException("--on-bad-image " + onBadImage + ": expected fail or skip");
        }
        if (!List.of("all", "train", "test").contains(split)) {
            throw new ConfigException("--split " + split + ": expected all, train or test");
        }
        return common.loader().load();
    }

    @Override
    public Integer call() {
        PipelineConfig config = config();
        SparkSession spark = Stage.session("predict", config, config.warehouse(), input);
        if (PredictJob.isSingleImage(input, spark.sparkContext().hadoopConfiguration())) {
            List<PredictJob.Top> top = PredictJob.single(Stage.warehouse(spark, config), config.dataset(), model, input, 3);
            System.out.printf("%s: %s (%.4f)%n", input, top.get(0).className(), top.get(0).probability());
            for (PredictJob.Top t : top) {
                System.out.printf("  %-14s %.4f%n", t.className(), t.probability());
            }
            return 0;
        }
        if (output == null) {
            throw new ConfigException("predict needs --output URI (a new directory) unless --input is one image file");
        }
        PredictJob.PredictResult r = TaskProgress.during(spark.sparkContext(), "predict " + config.dataset(),
                () -> PredictJob.run(spark, Stage.warehouse(spark, config), config.dataset(), model, input, output, split,
                        onBadImage.equals("skip"), config.evaluate().batchSize()));
        System.out.printf("predict %s with %s: %d images scored, %d bad%s; %s%n", config.dataset(), r.model(), r.count(),
                r.bad(), r.accuracy() == null ? "" : String.format(", accuracy %.4f", r.accuracy()), r.output());
        r.badImages().forEach(b -> System.out.println("  skipped " + b.path() + ": " + b.reason()));
        return 0;
    }
}
