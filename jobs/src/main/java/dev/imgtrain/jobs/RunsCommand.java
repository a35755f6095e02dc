package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.store.ObjectStorage;
import dev.imgtrain.store.RunCatalog;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code imgtrain runs list|show}: the committed runs of a warehouse. Reads through Hadoop's FileSystem; no Spark. */
@Command(name = "runs", mixinStandardHelpOptions = true,
        description = "The committed runs of a warehouse (runs with _SUCCESS; failed or killed runs are not shown).",
        subcommands = {RunsCommand.ListRuns.class, RunsCommand.Show.class})
final class RunsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list or show");
    }

    /**
     * The warehouse without a Spark session: Hadoop's defaults, then {@code spark.hadoop.*} JVM system properties (as
     * Spark would apply them), then the {@code storage.s3a.*} settings; checked first when on s3a://.
     */
    static Warehouse warehouse(PipelineConfig config) {
        Configuration hadoop = hadoopWithoutSpark();
        ObjectStorage.configure(hadoop, config.storage(), config.warehouse());
        return new Warehouse(config.warehouse(), hadoop);
    }

    /** Hadoop's defaults, then the {@code spark.hadoop.*} JVM system properties, as Spark would apply them. */
    static Configuration hadoopWithoutSpark() {
        Configuration hadoop = new Configuration();
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("spark.hadoop."))
                .forEach(k -> hadoop.set(k.substring("spark.hadoop.".length()), System.getProperty(k)));
        return hadoop;
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists committed runs: id, dataset, preset, epochs, test accuracy and loss (when evaluated), created.")
    static final class ListRuns implements Callable<Integer>, ConfiguredCommand {
        @Mixin
        CommonOptions common = new CommonOptions();

        @Option(names = "--json", description = "Print a JSON array instead of a table (for scripts and Airflow).")
        boolean json;

        @Override
        public PipelineConfig config() {
            return common.loader().load();
        }

        @Override
        public Integer call() throws Exception {
            PipelineConfig config = config();
            List<RunCatalog.Summary> runs = new RunCatalog(warehouse(config)).list();
            if (json) {
                System.out.println(Warehouse.JSON.writeValueAsString(runs));
                return 0;
            }
            System.out.printf("%-40s %-14s %-22s %6s %9s %8s  %s%n", "RUN", "DATASET", "PRESET", "EPOCHS", "ACCURACY",
                    "LOSS", "CREATED");
            for (RunCatalog.Summary r : runs) {
                System.out.printf("%-40s %-14s %-22s %6d %9s %8s  %s%n", r.runId(), r.dataset(), r.preset(), r.epochs(),
                        r.accuracy() == null ? "-" : String.format("%.4f", r.accuracy()),
                        r.loss() == null ? "-" : String.format("%.4f", r.loss()), r.createdAt());
            }
            System.out.println(runs.size() + " committed run" + (runs.size() == 1 ? "" : "s") + " in " + config.warehouse());
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Shows one committed run: its parameters, per-epoch metrics and evaluation.")
    static final class Show implements Callable<Integer>, ConfiguredCommand {
        @Mixin
        CommonOptions common = new CommonOptions();

        @Parameters(paramLabel = "RUN_ID", description = "The run id (a directory under <warehouse>/runs/).")
        String runId;

        @Option(names = "--json", description = "Print params, metrics and evaluation as one JSON object.")
        boolean json;

        @Override
        public PipelineConfig config() {
            return common.loader().load();
        }

        @Override
        public Integer call() throws Exception {
            PipelineConfig config = config();
            ObjectNode run = new RunCatalog(warehouse(config)).details(runId);
            if (json) {
                System.out.println(Warehouse.JSON.writeValueAsString(run));
                return 0;
            }
            JsonNode p = run.get("params");
            System.out.printf("run %s: %s on %s, created %s%n", runId, p.path("preset").asText(), p.path("dataset").asText(),
                    p.path("created_at").asText());
            JsonNode t = p.path("config").path("train");
            // Runs from before params.json had "training" only have the configured value (never 0 then).
            int averaging = p.path("training").has("averaging_frequency")
                    ? p.path("training").path("averaging_frequency").asInt() : t.path("averaging-frequency").asInt();
            System.out.printf("  %d workers, seed %d, averaging every %d, Spark master %s%n", t.path("workers").asInt(),
                    t.path("seed").asLong(), averaging, p.path("spark_master").asText());
            System.out.println("  epoch    loss  accuracy  val_loss  val_accuracy  seconds");
            for (JsonNode m : run.get("metrics")) {
                // Runs from before the Keras-style history have train_loss (one mini-batch's score) and no accuracy.
                System.out.printf("  %5d  %6.4f  %8s  %8.4f  %12.4f  %7.1f%n", m.path("epoch").asInt(),
                        m.has("loss") ? m.path("loss").asDouble() : m.path("train_loss").asDouble(),
                        m.has("accuracy") ? String.format("%.4f", m.path("accuracy").asDouble()) : "-",
                        m.path("val_loss").asDouble(), m.path("val_accuracy").asDouble(), m.path("epoch_seconds").asDouble());
            }
            JsonNode e = run.get("evaluation");
            if (e == null || e.isNull()) {
                System.out.println("  not evaluated: imgtrain evaluate --run " + runId);
            } else {
                System.out.printf("  test accuracy %.4f, loss %.4f on %d %s examples%n", e.path("accuracy").asDouble(),
                        e.path("loss").asDouble(), e.path("examples").asLong(), e.path("split").asText());
                for (JsonNode c : e.path("per_class")) {
                    System.out.printf("    %-14s precision %.3f  recall %.3f  f1 %.3f  (%d)%n", c.path("class_name").asText(),
                            c.path("precision").asDouble(), c.path("recall").asDouble(), c.path("f1").asDouble(),
                            c.path("support").asLong());
                }
            }
            JsonNode report = run.get("report");
            System.out.println(report == null || report.isNull()
                    ? "  no report: imgtrain report --run " + runId : "  report: " + report.asText());
            return 0;
        }
    }
}
