package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.datasets.InvalidArchiveException;
import dev.imgtrain.fetch.FetchException;
import dev.imgtrain.store.StorageException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** The {@code imgtrain} command and its subcommands; {@link #commandLine()} is the factory tests reuse. */
@Command(name = "imgtrain", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Trains dense networks on image datasets as a Spark batch pipeline "
                + "(ingest -> preprocess -> train -> evaluate -> report).",
        subcommands = {IngestCommand.class, PreprocessCommand.class, TrainCommand.class, EvaluateCommand.class,
                ReportCommand.class, RunCommand.class, RunsCommand.class, SweepCommand.class,
                SweepsCommand.class, PromoteCommand.class, PredictCommand.class, ModelsCommand.class, DatasetsCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class ImgtrainCommand implements Runnable {
    /** Exit code of a run that failed on bad input, bad data or a failed job. */
    public static final int FAILED = 1;
    /** Exit code of a bad command line or configuration. */
    public static final int USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new ImgtrainCommand());
        cl.setExecutionExceptionHandler(ImgtrainCommand::handle);
        cl.setUsageHelpAutoWidth(true);
        return cl;
    }

    /** Runs one command line and stops the Spark session it started, if any. */
    public static int execute(String... args) {
        try {
            return commandLine().execute(args);
        } finally {
            SparkSession.getActiveSession().foreach(s -> {
                s.stop();
                return null;
            });
        }
    }

    /** One clear line on stderr for an expected failure; the stack trace only with IMGTRAIN_DEBUG=1. */
    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        String command = cl.getCommandSpec().qualifiedName();
        if (e instanceof ConfigException) {
            err.println(command + ": configuration error: " + e.getMessage());
            return USAGE;
        }
        if (e instanceof InvalidArchiveException) {
            err.println(command + ": invalid input: " + e.getMessage());
        } else if (e instanceof FetchException || e instanceof StorageException) {
            err.println(command + ": failed: " + e.getMessage());
        } else {
            err.println(command + ": failed: " + describe(e));
        }
        if ("1".equals(System.getenv("IMGTRAIN_DEBUG"))) {
            e.printStackTrace(err);
        } else {
            err.println("(set IMGTRAIN_DEBUG=1 for the stack trace)");
        }
        err.flush();
        return FAILED;
    }

    private static String describe(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? message : message + " (cause: " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }
}
