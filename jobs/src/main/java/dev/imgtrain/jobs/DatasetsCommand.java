package dev.imgtrain.jobs;

import dev.imgtrain.datasets.DatasetSpec;
import dev.imgtrain.fetch.DatasetDownload;
import dev.imgtrain.fetch.Fetcher;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code imgtrain datasets list|fetch}: the built-in datasets and where their archives come from. No Spark. */
@Command(name = "datasets", mixinStandardHelpOptions = true,
        description = "The built-in datasets: list them, or fetch their official archives into a directory.",
        subcommands = {DatasetsCommand.ListDatasets.class, DatasetsCommand.Fetch.class})
final class DatasetsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list or fetch");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the built-in datasets, their files and official locations.")
    static final class ListDatasets implements Callable<Integer> {
        @Override
        public Integer call() {
            for (DatasetDownload d : DatasetDownload.KNOWN) {
                DatasetSpec s = d.spec();
                System.out.printf("%s  %dx%dx%d, %d classes; from %s%n", d.dataset(), s.height(), s.width(),
                        s.channels(), s.classes().size(), d.locations().get(0));
                for (DatasetDownload.RemoteFile f : d.files()) {
                    System.out.printf("    %-28s %,12d bytes  %s%n", f.name(), f.size(), f.digest());
                }
            }
            return 0;
        }
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = {"Puts a dataset's official archives into --dest (the layout `ingest --source` reads), each "
                    + "checked against its published digest before it gets its final name.",
                    "Downloads resume from NAME.part after an interruption and are retried with back-off; "
                            + "files already there are verified and kept."})
    static final class Fetch implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--dataset", required = true, paramLabel = "NAME",
                description = "mnist, fashion-mnist or cifar10.")
        String dataset;

        @Option(names = "--dest", paramLabel = "DIR", description = "Target directory (default ./data/<dataset>, "
                + "where ingest looks by default).")
        Path dest;

        @Option(names = "--from", paramLabel = "DIR",
                description = "Copy from a local mirror directory holding the same file names instead of downloading.")
        Path from;

        @Option(names = "--url", paramLabel = "URL",
                description = "Download from this base URL (an HTTP mirror) instead of the official locations.")
        URI url;

        @Option(names = "--checksums", paramLabel = "FILE",
                description = "Expected digests in sha256sum/md5sum format (HEX  NAME per line) instead of the "
                        + "published ones, for a mirror whose files are not byte-identical to the official ones.")
        Path checksums;

        @Option(names = "--retries", paramLabel = "N", defaultValue = "4",
                description = "Retries per location after a failed request (default ${DEFAULT-VALUE}).")
        int retries;

        @Option(names = "--retry-wait", paramLabel = "SECONDS", defaultValue = "2",
                description = "First wait before a retry, doubled each time (default ${DEFAULT-VALUE}).")
        double retryWait;

        @Override
        public Integer call() throws Exception {
            DatasetDownload download;
            try {
                download = DatasetDownload.named(dataset);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            if (from != null && url != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--from and --url exclude each other");
            }
            if (url != null) {
                String base = url.toString().endsWith("/") ? url.toString() : url + "/";
                download = download.at(List.of(URI.create(base)));
            }
            if (checksums != null) {
                try {
                    download = download.withDigests(Fetcher.readChecksums(checksums));
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--checksums " + checksums + ": " + e.getMessage());
                }
            }
            Path target = dest != null ? dest : Path.of("data", dataset);
            Fetcher fetcher = new Fetcher(new Fetcher.Options(retries,
                    Duration.ofMillis(Math.round(retryWait * 1000)), Fetcher.Options.DEFAULT.connectTimeout()),
                    line -> System.out.println("fetch " + dataset + ": " + line));
            List<Fetcher.Fetched> fetched = from != null
                    ? fetcher.copy(download, from, target)
                    : fetcher.download(download, target);
            System.out.println("fetched " + dataset + ": " + fetched.size() + " files in " + target.toAbsolutePath()
                    + "; ingest with --dataset " + dataset + " --source " + target);
            return 0;
        }
    }
}
