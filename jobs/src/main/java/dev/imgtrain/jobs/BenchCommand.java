package dev.imgtrain.jobs;

import dev.imgtrain.bench.BenchRun;
import dev.imgtrain.bench.StorageBench;
import dev.imgtrain.config.PipelineConfig;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code imgtrain bench} and {@code bench storage}: options only; the measurements are {@link BenchRun}'s. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures, side by side in one Spark application (medians of --repeats), and writes --out "
                + "(bench.json): imgtrain's Spark epoch and wall time to the target accuracy against a PyTorch script "
                + "with the same network (MNIST and CIFAR-10's small network), plain single-process DL4J, ND4J's "
                + "matrix-product rate and the FLOP floor, and MLlib's perceptron given imgtrain's time; one epoch "
                + "over MNIST enlarged by shifted copies through a batch cache too small for it; ingest of the "
                + "archives against gunzip-and-read. deploy/local/performance-md.py turns bench.json into "
                + "docs/performance.md."},
        subcommands = {BenchCommand.Storage.class})
final class BenchCommand implements Callable<Integer>, ConfiguredCommand {
    @Mixin
    CommonOptions common = new CommonOptions();
    @Mixin
    TrainOptions train = new TrainOptions();

    @Option(names = "--cifar-source", paramLabel = "DIR_OR_FILE", description = "The CIFAR-10 archive (or its directory) for the ingest comparison.")
    java.nio.file.Path cifarSource;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "bench.json", description = "JSON figures (default ${DEFAULT-VALUE}).")
    File out;

    @Option(names = "--repeats", defaultValue = "3", description = "Repeats of each measurement; medians are reported (default ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--target-accuracy", defaultValue = "0.98", paramLabel = "ACCURACY",
            description = "Test accuracy that plain DL4J and imgtrain train to, for the time-to-accuracy figure (default ${DEFAULT-VALUE}, the seed's).")
    double target;

    @Option(names = "--max-epochs", defaultValue = "20", description = "Epochs after which a run that has not reached the target stops (default ${DEFAULT-VALUE}).")
    int maxEpochs;

    @Option(names = "--ingest-warmups", defaultValue = "4", paramLabel = "N",
            description = "Untimed ingests of each archive before the timed ones (default ${DEFAULT-VALUE}): the JIT is "
                    + "still compiling Parquet's and Spark's code for the first few, on the same cores. The first one's "
                    + "time is reported as ingest_<dataset>_cold_seconds.")
    int ingestWarmups;

    @Option(names = "--ingest-only", description = "Only the ingest figures (seconds, not minutes); the training figures are left out.")
    boolean ingestOnly;

    @Option(names = "--mllib-seconds", defaultValue = "0", paramLabel = "SECONDS",
            description = "Wall-time budget for MLlib's perceptron: 0 (default) gives it imgtrain's median time to the target; a negative value skips it.")
    double mllibBudget;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", paramLabel = "PYTHON",
            description = "The Python with Debian's python3-torch for the PyTorch peer (default ${DEFAULT-VALUE}); "
                    + "'none' leaves the peer out.")
    String python;

    @Option(names = "--stream-copies", defaultValue = "10", paramLabel = "N",
            description = "Data beyond memory: train one epoch on MNIST enlarged N times by shifted copies "
                    + "(600,000 examples for 10) with a batch cache too small to hold it, against the cached epoch "
                    + "(default ${DEFAULT-VALUE}; 0 leaves it out).")
    int streamCopies;

    @Option(names = "--stream-cache-mb", defaultValue = "64", paramLabel = "MB",
            description = "The batch cache for the enlarged set (default ${DEFAULT-VALUE} MB).")
    int streamCacheMb;

    @Override
    public PipelineConfig config() {
        return train.apply(common.loader()).load();
    }

    /** The parsed options; a bad value throws the ConfigException that makes the exit code 2. */
    BenchRun.Options options() {
        return new BenchRun.Options(cifarSource, out, repeats, target, maxEpochs, ingestWarmups, ingestOnly, mllibBudget,
                python, streamCopies, streamCacheMb);
    }

    @Override
    public Integer call() throws Exception {
        BenchRun.Options options = options();
        PipelineConfig config = config();
        SparkSession spark = Stage.session("bench", config);
        BenchRun.run(spark, Stage.warehouse(spark, config), () -> train.apply(common.loader()), options);
        return 0;
    }

    @Command(name = "storage", mixinStandardHelpOptions = true,
            description = {"Writes the dataset's features table (read once from --warehouse and cached) as Parquet to "
                    + "each --target, then reads it back in full, --repeats times, alternating targets; prints "
                    + "medians and the ratio of each target to the first."})
    static final class Storage implements Callable<Integer>, ConfiguredCommand {
        @Mixin
        CommonOptions common = new CommonOptions();

        @Option(names = "--target", required = true, paramLabel = "URI",
                description = "A directory to write to (repeatable); it is overwritten. The first is the baseline.")
        List<String> targets;

        @Option(names = "--repeats", defaultValue = "3", description = "Rounds (default ${DEFAULT-VALUE}).")
        int repeats;

        @Option(names = "--out", paramLabel = "FILE", description = "Also write the figures as JSON.")
        File out;

        @Override
        public PipelineConfig config() {
            return common.loader().load();
        }

        @Override
        public Integer call() throws Exception {
            PipelineConfig config = config();
            List<String> uris = new ArrayList<>(targets);
            uris.add(config.warehouse());
            SparkSession spark = Stage.session("bench", config, uris.toArray(String[]::new));
            StorageBench.run(spark, Stage.warehouse(spark, config), config.dataset(), targets, repeats, out);
            return 0;
        }
    }
}
