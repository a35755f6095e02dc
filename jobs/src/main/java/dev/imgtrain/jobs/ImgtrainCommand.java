package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.datasets.InvalidArchiveException;
import dev.imgtrain.fetch.FetchException;
import dev.imgtrain.store.ObjectStorage;
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

    /** The command line for a caller that keeps its Spark session (tests running several commands on one). */
    public static CommandLine commandLine() {
        return commandLine(false);
    }

    /**
     * @param ownsSpark whether this command line's process ends with the command: then an error stops the Spark
     *                  session before its line is printed, so that what stopping logs comes before the line, not after
     *                  it (an InterruptedException from the block manager's async pool after a failed job's tasks were
     *                  cancelled, for one)
     */
    static CommandLine commandLine(boolean ownsSpark) {
        CommandLine cl = new CommandLine(new ImgtrainCommand());
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            org.apache.hadoop.conf.Configuration hadoop = SparkSession.getActiveSession().isDefined()
                    ? new org.apache.hadoop.conf.Configuration(SparkSession.getActiveSession().get().sparkContext().hadoopConfiguration())
                    : new org.apache.hadoop.conf.Configuration();
            if (ownsSpark) {
                stopSpark();
            }
            return handle(e, line, hadoop);
        });
        cl.setUsageHelpAutoWidth(true);
        return cl;
    }

    /** Runs one command line and stops the Spark session it started, if any. */
    public static int execute(String... args) {
        try {
            return commandLine(true).execute(args);
        } finally {
            stopSpark();
        }
    }

    private static void stopSpark() {
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
    }

    /** One clear line on stderr for an expected failure; the stack trace only with IMGTRAIN_DEBUG=1. */
    private static int handle(Exception e, CommandLine cl, org.apache.hadoop.conf.Configuration hadoop) {
        PrintWriter err = cl.getErr();
        String command = cl.getCommandSpec().qualifiedName();
        if (e instanceof ConfigException) {
            err.println(command + ": configuration error: " + e.getMessage());
            return USAGE;
        }
        java.util.Optional<String> outage = ObjectStorage.outage(e, hadoop);
        if (outage.isPresent()) {
            err.println(command + ": failed: " + outage.get());
        } else if (e instanceof InvalidArchiveException) {
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
