package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigLoader;
import picocli.CommandLine.Option;

/** Training flags of {@code train} and {@code run}. */
final class TrainOptions {
    @Option(names = "--preset", paramLabel = "NAME",
            description = "Network preset from conf/models (config: train.preset; default mnist-dense-512).")
    String preset;

    @Option(names = "--epochs", paramLabel = "N", description = "Epochs (config: train.epochs; default 10).")
    Integer epochs;

    @Option(names = "--workers", paramLabel = "W",
            description = "Parameter-averaging workers (config: train.workers; default 2).")
    Integer workers;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed (config: train.seed).")
    Long seed;

    @Option(names = "--run-id", paramLabel = "ID",
            description = "Run directory name under runs/ (config: train.run-id; default <dataset>-<preset>-<time>).")
    String runId;

    @Option(names = "--if-committed", paramLabel = "fail|skip",
            description = "When the run id is already committed: fail, or skip training and exit 0 (config: train.if-committed; default fail).")
    String ifCommitted;

    @Option(names = "--fresh", description = "Remove what the run id holds and train from epoch 1 (config: train.fresh). "
            + "Without it an uncommitted run of the id is resumed from its last epoch checkpoint.")
    Boolean fresh;

    ConfigLoader apply(ConfigLoader loader) {
        return loader.withFlag("train.preset", preset).withFlag("train.epochs", epochs)
                .withFlag("train.workers", workers).withFlag("train.seed", seed).withFlag("train.run-id", runId)
                .withFlag("train.if-committed", ifCommitted).withFlag("train.fresh", fresh);
    }
}
