package dev.imgtrain.jobs;

/**
 * Entry point for bin/imgtrain and spark-submit: builds the command line, runs it, exits with its code.
 *
 * <p>The driver of a YARN cluster-mode application runs inside Spark's ApplicationMaster, which calls this method and
 * reports to YARN how it returned: there {@code System.exit} would be reported as a failure whatever its code ("Shutdown
 * hook called before final status was reported", and YARN would start the application again). So there a success
 * returns, and a failure throws {@link ApplicationFailed}, whose one line becomes the application's diagnostics, which
 * spark-submit prints and deploy/yarn/submit.sh turns back into the line and the exit code.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        ImgtrainCommand.Outcome outcome = ImgtrainCommand.run(args);
        if (yarnClusterDriver()) {
            if (outcome.code() != 0) {
                throw new ApplicationFailed(outcome);
            }
            return;
        }
        System.exit(outcome.code());
    }

    /** Whether this JVM is a YARN cluster-mode driver (the ApplicationMaster sets its Spark configuration as properties). */
    static boolean yarnClusterDriver() {
        return System.getProperty("spark.master", "").startsWith("yarn")
                && "cluster".equals(System.getProperty("spark.submit.deployMode"));
    }

    /** A failed command in a YARN cluster-mode driver: no stack trace, its text the exit code and the one line. */
    static final class ApplicationFailed extends RuntimeException {
        /** What deploy/yarn/submit.sh looks for in the application's diagnostics. */
        static final String PREFIX = "imgtrain exit ";

        ApplicationFailed(ImgtrainCommand.Outcome outcome) {
            super(PREFIX + outcome.code() + ": " + (outcome.errorLine() == null ? "failed" : outcome.errorLine()),
                    null, false, false);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }
}
