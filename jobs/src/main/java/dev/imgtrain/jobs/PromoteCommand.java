package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.registry.ModelRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "promote", mixinStandardHelpOptions = true,
        description = "Makes an evaluated run the current model of its dataset (models/<dataset>/current.json) when its "
                + "test accuracy beats the current one's by more than --min-improvement. Exit codes: 0 promoted (or "
                + "already current), 3 not promoted, 1 failed, 2 bad command line. No Spark.")
final class PromoteCommand implements Callable<Integer>, ConfiguredCommand {
    /** Exit code of a promote whose run did not beat the current model: not a failure (Airflow marks it so). */
    static final int NOT_PROMOTED = 3;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--run", paramLabel = "RUN_ID", required = true, description = "The evaluated run to promote.")
    String run;

    @Option(names = "--min-improvement", paramLabel = "X", defaultValue = "0",
            description = "Test accuracy the run must beat the current model's by, more than (default ${DEFAULT-VALUE}).")
    double minImprovement;

    @Option(names = "--force", description = "Promote without the gate: a rollback to an older run (recorded as forced).")
    boolean force;

    @Override
    public PipelineConfig config() {
        if (!(minImprovement >= 0 && minImprovement < 1)) {
            throw new ConfigException("--min-improvement " + minImprovement + ": expected a value in [0, 1)");
        }
        return common.loader().load();
    }

    @Override
    public Integer call() {
        PipelineConfig config = config();
        ModelRegistry.Decision d = new ModelRegistry(RunsCommand.warehouse(config)).promote(config.dataset(), run, minImprovement,
                force);
        System.out.println("promote " + config.dataset() + ": " + d.reason());
        return d.outcome() == ModelRegistry.Outcome.NOT_PROMOTED ? NOT_PROMOTED : 0;
    }
}
