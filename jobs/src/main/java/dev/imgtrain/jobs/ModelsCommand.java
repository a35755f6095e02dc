package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.registry.ModelRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code imgtrain models show DATASET}: the current model and its promotion history. No Spark. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "The models in use, per dataset.",
        subcommands = {ModelsCommand.Show.class})
final class ModelsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: show");
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows a dataset's current model and its promotions.")
    static final class Show implements Callable<Integer>, ConfiguredCommand {
        @Mixin
        CommonOptions common = new CommonOptions();

        @Parameters(paramLabel = "DATASET", description = "The dataset (as in models/<dataset>/).")
        String dataset;

        @Override
        public PipelineConfig config() {
            return common.loader().withFlag("dataset", dataset).load();
        }

        @Override
        public Integer call() {
            PipelineConfig config = config();
            ModelRegistry registry = new ModelRegistry(RunsCommand.warehouse(config));
            ModelRegistry.Current current = registry.current(config.dataset());
            if (current == null) {
                System.out.println("models " + config.dataset() + ": no current model; promote one with "
                        + "`imgtrain promote --dataset " + config.dataset() + " --run RUN_ID`");
            } else {
                System.out.printf("models %s: current %s, test accuracy %.4f, promoted %s%n  model %s%n", config.dataset(),
                        current.runId(), current.accuracy(), current.promotedAt(), current.model());
            }
            List<JsonNode> history = registry.history(config.dataset());
            if (!history.isEmpty()) {
                System.out.println("  promotions (oldest first):");
            }
            for (JsonNode h : history) {
                System.out.printf("  %s  %s %.4f  (previous %s)%n", h.path("promoted_at").asText(), h.path("run_id").asText(),
                        h.path("accuracy").asDouble(), h.path("previous_run_id").isNull() ? "none"
                                : h.path("previous_run_id").asText() + " " + String.format("%.4f", h.path("previous_accuracy").asDouble()));
            }
            return 0;
        }
    }
}
