package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.sweep.SweepJob;
import dev.imgtrain.sweep.SweepSpec;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Runs every trial of a sweep spec (a grid or a random search over any configuration keys) as a "
                + "normal run, then writes sweeps/<id>/: spec.conf, leaderboard.csv|json|parquet and index.html. "
                + "Trials already committed are skipped, so the same command finishes a sweep that was killed. "
                + "Exit code 0 when every trial is done, 1 when any failed.")
final class SweepCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--spec", paramLabel = "FILE", required = true, description = "The sweep spec (HOCON), e.g. conf/sweeps/mnist-quick.conf.")
    File spec;

    @Option(names = "--sweep-id", paramLabel = "ID", description = "The sweep's id (default: the spec's sweep.id, else its file name).")
    String sweepId;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "1",
            description = "Trials run at once, as concurrent jobs of this Spark application (default ${DEFAULT-VALUE}).")
    int parallel;

    /** The parsed spec and every trial's checked configuration: no Spark, no I/O besides reading the spec. */
    Map<SweepSpec.Trial, PipelineConfig> plan(SweepSpec parsed) {
        return SweepJob.configs(parsed, common::loader, common.dataset);
    }

    SweepSpec spec() {
        if (parallel < 1 || parallel > 64) {
            throw new ConfigException("--parallel " + parallel + ": expected an integer in [1, 64]");
        }
        if (!spec.isFile()) {
            throw new ConfigException("--spec " + spec + ": no such file");
        }
        try {
            return SweepSpec.parse(Files.readString(spec.toPath(), StandardCharsets.UTF_8), spec.getName(), sweepId);
        } catch (IOException e) {
            throw new ConfigException("--spec " + spec + ": cannot read: " + e.getMessage(), e);
        }
    }

    @Override
    public Integer call() {
        SweepSpec parsed = spec();
        Map<SweepSpec.Trial, PipelineConfig> configs = plan(parsed);
        PipelineConfig first = configs.values().iterator().next();
        SparkSession spark = Stage.session("sweep", first, first.warehouse(), first.sourceOrDefault());
        SweepJob.SweepResult result = SweepJob.run(spark, parsed, configs, Stage.warehouse(spark, first), parallel);
        System.out.printf("sweep %s: %d trials (%d already done, %d run), %d failed; best %s; page %s%n", result.sweepId(),
                result.trials(), result.skipped(), result.trained(), result.failed(),
                result.bestRunId() == null ? "none" : result.bestRunId(), result.page());
        return result.failed() == 0 ? 0 : ImgtrainCommand.FAILED;
    }
}
