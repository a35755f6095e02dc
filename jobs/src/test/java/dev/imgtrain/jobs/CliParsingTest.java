package dev.imgtrain.jobs;

import dev.imgtrain.config.PipelineConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every flag reaches its configuration key; bad values fail with exit code 2 before any Spark starts. */
class CliParsingTest {

    private static PipelineConfig parse(String... args) {
        CommandLine cl = ImgtrainCommand.commandLine();
        CommandLine.ParseResult parsed = cl.parseArgs(args);
        return ((ConfiguredCommand) parsed.subcommand().commandSpec().userObject()).config();
    }

    /** Runs a command line to completion; returns exit code and stderr. */
    /** What {@code r} printed on System.out (the commands print their results there). */
    static String stdout(Runnable r) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.out;
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(saved);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    static String[] execute(String... args) {
        CommandLine cl = ImgtrainCommand.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new String[]{Integer.toString(code), err.toString()};
    }

    @Test
    void commonFlags() {
        PipelineConfig c = parse("ingest", "--dataset", "mnist", "--source", "s3a://b/mnist", "--warehouse", "/tmp/w");
        assertEquals("mnist", c.dataset());
        assertEquals("s3a://b/mnist", c.sourceOrDefault());
        assertEquals("/tmp/w", c.warehouse());
    }

    @Test
    void trainFlags() {
        PipelineConfig c = parse("train", "--preset", "mnist-dense-32-16", "--epochs", "3", "--workers", "4",
                "--seed", "7", "--run-id", "r-1");
        assertEquals("mnist-dense-32-16", c.train().preset());
        assertEquals(3, c.train().epochs());
        assertEquals(4, c.train().workers());
        assertEquals(7, c.train().seed());
        assertEquals("r-1", c.train().runId());
        assertEquals(8, c.train().batchSizePerWorker(), "the preset's batch of 32 over 4 workers");
    }

    @Test
    void benchFlags() {
        CommandLine cl = ImgtrainCommand.commandLine();
        BenchCommand bench = (BenchCommand) cl.parseArgs("bench", "--target-accuracy", "0.97", "--max-epochs", "12",
                "--mllib-seconds", "-1", "--repeats", "2").subcommand().commandSpec().userObject();
        assertEquals(0.97, bench.target);
        assertEquals(12, bench.maxEpochs);
        assertEquals(-1, bench.mllibBudget);
        assertEquals(2, bench.repeats);
        BenchCommand defaults = (BenchCommand) ImgtrainCommand.commandLine().parseArgs("bench")
                .subcommand().commandSpec().userObject();
        assertEquals(0.98, defaults.target, "the seed's accuracy");
        assertEquals(20, defaults.maxEpochs);
        assertEquals(0, defaults.mllibBudget, "MLlib gets imgtrain's time");
        assertEquals(4, defaults.ingestWarmups);
        for (String[] bad : new String[][]{{"--max-epochs", "0"}, {"--target-accuracy", "1.5"}, {"--repeats", "0"},
                {"--ingest-warmups", "-1"}}) {
            String[] result = execute("bench", bad[0], bad[1]);
            assertEquals("2", result[0], String.join(" ", bad) + ": " + result[1]);
            assertTrue(result[1].contains("--repeats and --max-epochs must be at least 1, --ingest-warmups at least 0 "
                            + "and --target-accuracy in (0, 1]"),
                    "[" + result[1] + "]");
        }
    }

    @Test
    void runTakesTheTrainFlagsToo() {
        PipelineConfig c = parse("run", "--epochs", "1", "--preset", "mnist-dense-32-16");
        assertEquals(1, c.train().epochs());
        assertEquals("mnist-dense-32-16", c.train().preset());
        assertEquals(10, parse("run").train().epochs(), "no options: the embedded defaults");
    }

    @Test
    void flagsBeatSetBeatsConfigFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.conf");
        Files.writeString(file, "train.epochs = 2\ntrain.workers = 3\ntrain.prefetch = 5\n");
        PipelineConfig c = parse("train", "--config", file.toString(), "--set", "train.workers=4",
                "--set", "train.epochs=6", "--epochs", "8");
        assertEquals(8, c.train().epochs());
        assertEquals(4, c.train().workers());
        assertEquals(5, c.train().prefetch());
    }

    @Test
    void evaluateFlag() {
        assertEquals("mnist-run-1", parse("evaluate", "--run", "mnist-run-1").evaluate().run());
    }

    @Test
    void badValueExitsWithUsageCodeAndNamesKeyAndValue() {
        String[] result = execute("train", "--epochs", "0");
        assertEquals("2", result[0]);
        assertEquals("imgtrain train: configuration error: train.epochs = 0: expected an integer in [1, 10000]",
                result[1].strip());
    }

    @Test
    void unknownSetKeyExitsWithUsageCode() {
        String[] result = execute("run", "--set", "train.epoch=3");
        assertEquals("2", result[0]);
        assertTrue(result[1].contains("unknown configuration key [train.epoch]"), result[1]);
    }

    @Test
    void reportFlag() {
        PipelineConfig c = parse("report", "--run", "mnist-run-2", "--warehouse", "s3a://b/wh");
        assertEquals("mnist-run-2", c.evaluate().run());
        assertEquals("s3a://b/wh", c.warehouse());
    }

    @Test
    void reportWithoutRun() {
        String[] result = execute("report");
        assertEquals("2", result[0]);
        assertEquals("imgtrain report: configuration error: report needs a run: --run RUN_ID (or evaluate.run)",
                result[1].strip());
    }

    @Test
    void evaluateWithoutRun() {
        String[] result = execute("evaluate");
        assertEquals("2", result[0]);
        assertTrue(result[1].contains("evaluate needs a run: --run RUN_ID"), result[1]);
    }

    @Test
    void unknownFlagIsAPicocliUsageError() {
        String[] result = execute("train", "--epocs", "3");
        assertEquals("2", result[0]);
        assertTrue(result[1].contains("Unknown options: '--epocs'"), result[1]);
    }

    @Test
    void helpShowsEveryCommand() {
        StringWriter out = new StringWriter();
        CommandLine cl = ImgtrainCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        assertEquals(0, cl.execute("--help"));
        for (String command : new String[]{"ingest", "preprocess", "train", "evaluate", "report", "run"}) {
            assertTrue(out.toString().contains(command), command);
        }
    }
}
