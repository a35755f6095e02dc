package dev.imgtrain.jobs;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a command's end reaches YARN when its driver runs in the ApplicationMaster (issue 19; YarnIT runs it for real). */
class MainTest {
    @Test
    void aFailedCommandSaysItsCodeAndItsOneLine() {
        ImgtrainCommand.Outcome outcome = ImgtrainCommand.run("train", "--dataset", "mnist", "--epochs=-1");
        assertEquals(ImgtrainCommand.USAGE, outcome.code());
        assertTrue(outcome.errorLine().startsWith("imgtrain train: configuration error: train.epochs = -1"), outcome.errorLine());
        assertFalse(outcome.errorLine().contains("YARN application"), "no Spark, no application: " + outcome.errorLine());
        assertNull(ImgtrainCommand.run("--version").errorLine());
    }

    @Test
    void inAYarnClusterDriverTheFailureIsOneLineOfDiagnosticsWithTheExitCode() {
        ImgtrainCommand.Outcome outcome = new ImgtrainCommand.Outcome(1, "imgtrain run: invalid input: hdfs://nn/x: no such file");
        Main.ApplicationFailed failed = new Main.ApplicationFailed(outcome);
        // What Spark's ApplicationMaster puts after "User class threw exception: " (Hadoop's stringifyException).
        java.io.StringWriter trace = new java.io.StringWriter();
        failed.printStackTrace(new java.io.PrintWriter(trace));
        assertEquals("imgtrain exit 1: imgtrain run: invalid input: hdfs://nn/x: no such file", trace.toString().strip());
    }

    /** A driver that YARN stops (its node lost: YarnIT) is interrupted; a timeout is not an interruption. */
    @Test
    void anInterruptedDriverIsToldApartFromATimeout() {
        assertTrue(ImgtrainCommand.interrupted(new RuntimeException("job", new InterruptedException())));
        assertTrue(ImgtrainCommand.interrupted(new java.io.IOException(new java.io.InterruptedIOException("cut short"))));
        assertTrue(ImgtrainCommand.interrupted(new java.nio.channels.ClosedByInterruptException()));
        assertFalse(ImgtrainCommand.interrupted(new java.io.IOException(new java.net.SocketTimeoutException("read"))));
        assertFalse(ImgtrainCommand.interrupted(new IllegalStateException("x")));
    }

    @Test
    void onlyAYarnClusterModeDriverIsTreatedAsOne() {
        String master = System.getProperty("spark.master");
        String mode = System.getProperty("spark.submit.deployMode");
        try {
            System.clearProperty("spark.master");
            System.clearProperty("spark.submit.deployMode");
            assertFalse(Main.yarnClusterDriver());
            System.setProperty("spark.master", "yarn");
            System.setProperty("spark.submit.deployMode", "client");
            assertFalse(Main.yarnClusterDriver(), "client mode: the driver is an ordinary JVM and exits");
            System.setProperty("spark.submit.deployMode", "cluster");
            assertTrue(Main.yarnClusterDriver());
            System.setProperty("spark.master", "spark://127.0.0.1:7077");
            assertFalse(Main.yarnClusterDriver(), "standalone cluster mode runs main in a JVM of its own");
        } finally {
            restore("spark.master", master);
            restore("spark.submit.deployMode", mode);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
