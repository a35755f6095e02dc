package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.datasets.InvalidArchiveException;
import dev.imgtrain.fetch.FetchException;
import dev.imgtrain.store.ObjectStorage;
import dev.imgtrain.store.DamagedFileException;
import dev.imgtrain.store.DiskSpace;
import dev.imgtrain.store.StorageException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.List;

/** The {@code imgtrain} command and its subcommands; {@link #commandLine()} is the factory tests reuse. */
@Command(name = "imgtrain", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Trains dense networks on image datasets as a Spark batch pipeline "
                + "(ingest -> preprocess -> train -> evaluate -> report).",
        subcommands = {IngestCommand.class, PreprocessCommand.class, TrainCommand.class, EvaluateCommand.class,
                ReportCommand.class, RunCommand.class, RunsCommand.class, SweepCommand.class,
                SweepsCommand.class, UiCommand.class, PromoteCommand.class, PredictCommand.class, ModelsCommand.class, DatasetsCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
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
        return commandLine(ownsSpark, new java.util.concurrent.atomic.AtomicReference<>());
    }

    /** @param errorLine receives the one line an error prints */
    static CommandLine commandLine(boolean ownsSpark, java.util.concurrent.atomic.AtomicReference<String> errorLine) {
        CommandLine cl = new CommandLine(new ImgtrainCommand());
        // Hadoop's local file system reports a failed write (ENOSPC included) as an FSError, an Error that would end
        // the JVM with a stack trace: handled as the IOException it carries.
        cl.setExecutionStrategy(parsed -> {
            try {
                return new CommandLine.RunLast().execute(parsed);
            } catch (org.apache.hadoop.fs.FSError e) {
                java.io.IOException cause = e.getCause() instanceof java.io.IOException io ? io
                        : new java.io.IOException(e.getMessage(), e);
                List<CommandLine> invoked = parsed.asCommandLineList();
                throw new CommandLine.ExecutionException(invoked.get(invoked.size() - 1), String.valueOf(cause.getMessage()),
                        new java.io.UncheckedIOException(cause));
            }
        });
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            java.util.Optional<org.apache.spark.SparkContext> sc = SparkSession.getActiveSession().isDefined()
                    ? java.util.Optional.of(SparkSession.getActiveSession().get().sparkContext()) : java.util.Optional.empty();
            org.apache.hadoop.conf.Configuration hadoop = sc
                    .map(c -> new org.apache.hadoop.conf.Configuration(c.hadoopConfiguration()))
                    .orElseGet(org.apache.hadoop.conf.Configuration::new);
            // On YARN the line names the application, whose logs and tracking page hold the rest.
            String application = sc.filter(c -> c.master().startsWith("yarn"))
                    .map(c -> " (YARN application " + c.applicationId() + ")").orElse("");
            // YARN's ApplicationMaster interrupts a driver whose application it ends (its node lost): the flag is
            // cleared so that the line is still worked out and Spark still stops (Jetty waited 30 s on it).
            boolean interrupted = Thread.interrupted();
            String text = line.getCommandSpec().qualifiedName() + ": "
                    + (interrupted && !interrupted(e) ? what(new InterruptedException(), hadoop) : what(e, hadoop))
                    + application;
            errorLine.set(text);
            if (ownsSpark) {
                try {
                    stopSpark();
                } catch (RuntimeException stop) {
                    org.slf4j.LoggerFactory.getLogger(ImgtrainCommand.class).warn("stopping Spark after the failure: {}", stop.toString());
                }
            }
            return handle(e, line, text);
        });
        cl.setUsageHelpAutoWidth(true);
        return cl;
    }

    /** Runs one command line and stops the Spark session it started, if any. */
    public static int execute(String... args) {
        return run(args).code();
    }

    /** How a command ended: its exit code and, when it failed, the one line it printed (null otherwise). */
    public record Outcome(int code, String errorLine) {
    }

    /** Runs one command line, stops the Spark session it started, if any, and says how it ended. */
    public static Outcome run(String... args) {
        java.util.concurrent.atomic.AtomicReference<String> line = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            int code = commandLine(true, line).execute(args);
            return new Outcome(code, code == 0 ? null : line.get());
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
    private static int handle(Exception e, CommandLine cl, String line) {
        PrintWriter err = cl.getErr();
        err.println(line);
        if (e instanceof ConfigException) {
            return USAGE;
        }
        if ("1".equals(System.getenv("IMGTRAIN_DEBUG"))) {
            e.printStackTrace(err);
        } else {
            err.println("(set IMGTRAIN_DEBUG=1 for the stack trace)");
        }
        err.flush();
        return FAILED;
    }

    /** The kind of failure and its message: what follows the command's name on the error line. */
    private static String what(Exception e, org.apache.hadoop.conf.Configuration hadoop) {
        if (e instanceof ConfigException) {
            return "configuration error: " + e.getMessage();
        }
        if (DiskSpace.isNoSpace(e)) {
            return "failed: " + DiskSpace.describe(e, "the warehouse");
        }
        java.util.Optional<String> hdfs = dev.imgtrain.store.HdfsFailures.describe(e);
        if (hdfs.isPresent()) {
            return "failed: " + hdfs.get();
        }
        java.util.Optional<String> outage = ObjectStorage.outage(e, hadoop);
        if (outage.isPresent()) {
            return "failed: " + outage.get();
        }
        if (e instanceof InvalidArchiveException) {
            return "invalid input: " + e.getMessage();
        }
        if (e instanceof FetchException || e instanceof StorageException || e instanceof DamagedFileException) {
            return "failed: " + e.getMessage();
        }
        if (interrupted(e)) {
            return "failed: interrupted before it ended (the driver was told to stop: Ctrl-C, or on YARN the application "
                    + "was ended, e.g. killed or its node lost); nothing more was committed; run the same command again "
                    + "(a training run resumes after its last checkpoint)";
        }
        return "failed: " + describe(e);
    }

    /** An InterruptedException (or an I/O cut short by one, not a timeout) anywhere in the causes. */
    static boolean interrupted(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof InterruptedException || t.getClass() == java.io.InterruptedIOException.class
                    || t instanceof java.nio.channels.ClosedByInterruptException) {
                return true;
            }
        }
        return false;
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
