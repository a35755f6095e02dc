package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.sweep.SweepCatalog;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code imgtrain sweeps list|show}: the sweeps of a warehouse and their leaderboards. No Spark. */
@Command(name = "sweeps", mixinStandardHelpOptions = true, description = "The sweeps of a warehouse and their leaderboards.",
        subcommands = {SweepsCommand.ListSweeps.class, SweepsCommand.Show.class})
final class SweepsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list or show");
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists sweeps: id, dataset, trials, failed, best run and its final validation accuracy, updated.")
    static final class ListSweeps implements Callable<Integer>, ConfiguredCommand {
        @Mixin
        CommonOptions common = new CommonOptions();

        @Option(names = "--json", description = "Print a JSON array instead of a table.")
        boolean json;

        @Override
        public PipelineConfig config() {
            return common.loader().load();
        }

        @Override
        public Integer call() throws Exception {
            PipelineConfig config = config();
            List<JsonNode> sweeps = new SweepCatalog(RunsCommand.warehouse(config)).list();
            if (json) {
                System.out.println(Warehouse.JSON.writeValueAsString(sweeps));
                return 0;
            }
            System.out.printf("%-28s %-14s %6s %6s  %-40s %8s  %s%n", "SWEEP", "DATASET", "TRIALS", "FAILED", "BEST RUN",
                    "VAL ACC", "UPDATED");
            for (JsonNode s : sweeps) {
                System.out.printf("%-28s %-14s %6d %6d  %-40s %8s  %s%n", s.path("sweep_id").asText(),
                        s.path("dataset").asText(), s.path("trials").asInt(), s.path("failed").asInt(),
                        s.path("best_run_id").asText("-"), s.path("best_val_accuracy").isNumber()
                                ? String.format("%.4f", s.path("best_val_accuracy").asDouble()) : "-",
                        s.path("updated_at").asText());
            }
            System.out.println(sweeps.size() + " sweep" + (sweeps.size() == 1 ? "" : "s") + " in " + config.warehouse());
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one sweep's leaderboard, best first.")
    static final class Show implements Callable<Integer>, ConfiguredCommand {
        @Mixin
        CommonOptions common = new CommonOptions();

        @Parameters(paramLabel = "SWEEP_ID", description = "The sweep id (a directory under <warehouse>/sweeps/).")
        String sweepId;

        @Option(names = "--json", description = "Print the summary and leaderboard as one JSON object.")
        boolean json;

        @Override
        public PipelineConfig config() {
            return common.loader().load();
        }

        @Override
        public Integer call() throws Exception {
            JsonNode sweep = new SweepCatalog(RunsCommand.warehouse(config())).show(sweepId);
            if (json) {
                System.out.println(Warehouse.JSON.writeValueAsString(sweep));
                return 0;
            }
            List<String> keys = Warehouse.JSON.convertValue(sweep.path("swept_keys"),
                    Warehouse.JSON.getTypeFactory().constructCollectionType(List.class, String.class));
            System.out.printf("sweep %s on %s: %d trials, %d failed; page %s%n", sweepId, sweep.path("dataset").asText(),
                    sweep.path("trials").asInt(), sweep.path("failed").asInt(), sweep.path("page").asText());
            StringBuilder header = new StringBuilder(String.format("  %-32s %-8s", "RUN", "STATUS"));
            keys.forEach(k -> header.append(String.format(" %-18s", k.substring(k.lastIndexOf('.') + 1))));
            System.out.println(header.append("  FINAL VAL  BEST VAL   TEST  EPOCHS"));
            for (JsonNode r : sweep.path("leaderboard")) {
                StringBuilder line = new StringBuilder(String.format("  %-32s %-8s", r.path("run_id").asText(), r.path("status").asText()));
                keys.forEach(k -> line.append(String.format(" %-18s", r.path(k).asText())));
                line.append(String.format("  %9s  %8s  %5s  %6s", figure(r, "final_val_accuracy"), figure(r, "best_val_accuracy"),
                        figure(r, "test_accuracy"), r.path("epochs").isNumber() ? r.path("epochs").asText() : "-"));
                if (!r.path("reason").isNull() && !r.path("reason").asText().isEmpty()) {
                    line.append("  ").append(r.path("reason").asText());
                }
                System.out.println(line);
            }
            return 0;
        }

        private static String figure(JsonNode row, String key) {
            return row.path(key).isNumber() ? String.format("%.4f", row.path(key).asDouble()) : "-";
        }
    }
}
