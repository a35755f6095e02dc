package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigLoader;
import picocli.CommandLine.Option;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/** Options every command takes. Unset flags leave the configuration's value (conf/application.conf) in force. */
final class CommonOptions {
    @Option(names = "--dataset", paramLabel = "NAME", description = "Dataset name (config: dataset; default mnist).")
    String dataset;

    @Option(names = "--format", paramLabel = "FORMAT",
            description = "folder: a class-per-folder image set (source/train/<class>/, source/test/<class>/) "
                    + "named by --dataset (config: format; default: the dataset's own archives).")
    String format;

    @Option(names = "--source", paramLabel = "DIR_OR_URI",
            description = "Directory or Hadoop URI of the dataset's archives (config: source; default ./data/<dataset>).")
    String source;

    @Option(names = "--warehouse", paramLabel = "URI",
            description = "Root of all outputs, a path or Hadoop URI (config: warehouse; default ./warehouse).")
    String warehouse;

    @Option(names = "--progress", paramLabel = "MODE",
            description = "bar, log, none or auto: a progress line on a terminal, or a log line every 30 s of long work "
                    + "(config: progress; default auto: bar when stderr is a terminal, else log).")
    String progress;

    @Option(names = "--config", paramLabel = "FILE", description = "HOCON file layered over the defaults.")
    File config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Overrides one configuration key (repeatable), e.g. --set train.averaging-frequency=10.")
    List<String> settings = new ArrayList<>();

    /** Precedence: defaults < --config < --set < flags (each command adds its own flags after this). */
    ConfigLoader loader() {
        ConfigLoader loader = new ConfigLoader();
        if (config != null) {
            loader.withFile(config);
        }
        settings.forEach(loader::withSetting);
        return loader.withFlag("dataset", dataset).withFlag("format", format).withFlag("source", source).withFlag("warehouse", warehouse)
                .withFlag("progress", progress);
    }
}
