package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A warehouse on a small file system (a 50 MB tmpfs the test mounts; the test command runs as root): `imgtrain run`
 * on MNIST ingests and preprocesses, then is refused before writing its mini-batch files, which need more than is
 * left, with the one line that says where, what and how much; nothing is committed and no scratch or lock is left.
 * With space given back (the tmpfs made larger) the same command commits with the accuracy of an undisturbed run.
 */
class DiskFullIT {
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static Path small;

    private static final List<Path> MOUNTED = new ArrayList<>();

    @BeforeAll
    static void mount() throws Exception {
        spark = LocalSpark.start("disk-full");
        small = tmpfs("small", 50);
    }

    /** A tmpfs of {@code mb} MB at {@code tmp/name}, unmounted after the class. */
    private static Path tmpfs(String name, int mb) throws Exception {
        Path at = Files.createDirectories(tmp.resolve(name));
        Launched mounted = Launched.command(List.of("mount", "-t", "tmpfs", "-o", "size=" + mb + "m", "tmpfs", at.toString()),
                Map.of(), 30);
        assertEquals(0, mounted.code(), "DiskFullIT mounts a " + mb + " MB tmpfs (the test command runs as root): "
                + mounted.output());
        MOUNTED.add(at);
        return at;
    }

    @AfterAll
    static void unmount() throws Exception {
        for (Path at : MOUNTED) {
            Launched.command(List.of("umount", at.toString()), Map.of(), 30);
        }
        spark.stop();
    }

    /** Writes zeros to a new {@code file} until {@code bytes} are written (in 64 KB steps) or the file system is full. */
    private static void fill(Path file, long bytes) throws Exception {
        try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(1 << 16);
            for (long written = 0; written < bytes; written += chunk.capacity()) {
                chunk.clear();
                try {
                    channel.write(chunk);
                } catch (java.io.IOException full) {
                    return;
                }
            }
        }
    }

    /** Ingest onto a file system with less room than the raw table needs: refused before anything is written. */
    @Test
    void anIngestThatDoesNotFitIsRefusedBeforeWritingAnything() throws Exception {
        Path wh = tmpfs("tiny", 8).resolve("wh");
        String[] refused = CliParsingTest.execute(new String[] {"ingest", "--warehouse", wh.toString(), "--source",
                LocalSpark.mnistDir().toString()});
        assertEquals("1", refused[0], refused[1]);
        String line = refused[1].lines().findFirst().orElse("");
        assertTrue(line.startsWith("imgtrain ingest: failed: no space left on the file system of file:" + wh
                + "/datasets/mnist/raw while writing the raw table of mnist (") && line.contains(" MB needed by this stage, "
                + "estimated); nothing was committed;"), refused[1]);
        assertTrue(Files.notExists(wh.resolve("datasets/mnist")), "nothing of the dataset");
        assertTrue(Files.notExists(wh.resolve("_tmp")) || Files.list(wh.resolve("_tmp")).findAny().isEmpty(), "no scratch");
        System.out.printf("DiskFullIT: ingest refused with: %s%n", line);
    }

    /**
     * The disk fills up during training (another process takes the space after epoch 1's checkpoint): a later
     * checkpoint (or the model) is refused with the line naming it, nothing is committed, the lock is released; with
     * the space given back the same command resumes after the last checkpoint written and ends equal to an undisturbed
     * run of the same command.
     */
    @Test
    void aCheckpointThatNoLongerFitsStopsTheRunAndTheSameCommandResumes() throws Exception {
        Path disk = tmpfs("filling", 300);
        Path wh = disk.resolve("wh");
        List<String> args = new ArrayList<>(List.of("run", "--warehouse", wh.toString(), "--source",
                LocalSpark.mnistDir().toString(), "--run-id", "filled", "--epochs", "3", "--workers", "2",
                "--set", "train.max-examples=12000"));
        Process p = Launched.start(args, Map.of());
        StringBuilder out = new StringBuilder();
        Path filler = disk.resolve("filler");
        try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                out.append(line).append('\n');
                if (line.contains("epoch 1/3:") && Files.notExists(filler)) {
                    // Leave 1 MB: less than a checkpoint of mnist-dense-512 (about 5 MB), more than a metrics line.
                    fill(filler, Files.getFileStore(disk).getUsableSpace() - (1L << 20));
                }
            }
        }
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out.toString());
        String failed = out.toString().lines().filter(l -> l.startsWith("imgtrain run: failed: ")).findFirst().orElse("");
        assertTrue(failed.startsWith("imgtrain run: failed: no space left on the file system of file:" + wh
                + "/runs/filled/") && failed.contains(" MB needed by this stage, estimated); nothing was committed; free "
                + "space or choose another --warehouse, then run the same command again"), out.toString());
        assertTrue(Files.notExists(wh.resolve("runs/filled/_SUCCESS")), "nothing committed");
        assertTrue(Files.notExists(wh.resolve("_locks/run-filled.lock")), "the lock released");
        System.out.printf("DiskFullIT: during training: %s%n", failed);

        Files.delete(filler);
        Launched again = Launched.run(args, Map.of());
        assertEquals(0, again.code(), again.output());
        assertTrue(again.output().contains("train filled: resuming after epoch "), again.output());
        List<String> epochs = Files.readAllLines(wh.resolve("runs/filled/metrics.jsonl"));
        assertEquals(List.of(1, 2, 3), epochs.stream().map(l -> dev.imgtrain.train.EpochMetrics.parse(l).epoch()).toList());
        Path roomy = tmp.resolve("roomy3");
        List<String> undisturbedArgs = new ArrayList<>(args);
        undisturbedArgs.set(2, roomy.toString());
        Launched undisturbed = Launched.run(undisturbedArgs, Map.of());
        assertEquals(0, undisturbed.code(), undisturbed.output());
        double a = Warehouse.JSON.readTree(wh.resolve("runs/filled/evaluation.json").toFile()).get("accuracy").asDouble();
        double b = Warehouse.JSON.readTree(roomy.resolve("runs/filled/evaluation.json").toFile()).get("accuracy").asDouble();
        System.out.printf("DiskFullIT: test accuracy %.4f resumed after the disk filled, %.4f undisturbed%n", a, b);
        assertEquals(b, a, "the resumed run equals an undisturbed one");

        // A write no stage estimates (evaluation.json) on a file system with nothing left: Hadoop's local file system
        // throws an FSError (an Error), which still ends in the one line, not a stack trace.
        fill(filler, Long.MAX_VALUE);
        Launched evaluate = Launched.run(List.of("evaluate", "--run", "filled", "--warehouse", wh.toString()), Map.of());
        Files.delete(filler);
        assertEquals(1, evaluate.code(), evaluate.output());
        assertTrue(evaluate.output().lines().anyMatch(l -> l.startsWith("imgtrain evaluate: failed: no space left on the "
                + "file system of the warehouse; nothing was committed;")), evaluate.output());
        assertFalse(evaluate.output().contains("FSError"), evaluate.output());
    }

    private static List<String> run(Path warehouse) {
        return new ArrayList<>(List.of("run", "--warehouse", warehouse.toString(), "--source",
                LocalSpark.mnistDir().toString(), "--run-id", "full", "--epochs", "1", "--set", "train.max-examples=12000"));
    }

    @Test
    void aStageThatDoesNotFitIsRefusedUpFrontAndTheSameCommandThenCommits() throws Exception {
        Path wh = small.resolve("wh");
        String[] refused = CliParsingTest.execute(run(wh).toArray(String[]::new));
        assertEquals("1", refused[0], refused[1]);
        String line = refused[1].lines().findFirst().orElse("");
        assertTrue(line.startsWith("imgtrain run: failed: no space left on the file system of file:" + wh + "/_tmp/batches-full")
                && line.contains(" while writing the mini-batch files of run full (")
                && line.contains(" MB needed by this stage, estimated); nothing was committed; free space or choose another"
                + " --warehouse, then run the same command again (the file system reports "), refused[1]);
        assertEquals(2, refused[1].lines().count(), "one line and the hint: " + refused[1]);
        assertTrue(Files.exists(wh.resolve("datasets/mnist/features/_SUCCESS")), "the stages before it committed");
        assertTrue(Files.notExists(wh.resolve("runs/full/_SUCCESS")), "no run committed");
        try (var left = Files.list(wh.resolve("_tmp"))) {
            assertEquals(List.of(), left.toList(), "no scratch left");
        }
        assertTrue(Files.notExists(wh.resolve("_locks/run-full.lock")), "no lock left");

        Launched grown = Launched.command(List.of("mount", "-o", "remount,size=400m", small.toString()), Map.of(), 30);
        assertEquals(0, grown.code(), grown.output());
        String[] again = CliParsingTest.execute(run(wh).toArray(String[]::new));
        assertEquals("0", again[0], again[1]);
        String[] undisturbed = CliParsingTest.execute(run(tmp.resolve("roomy")).toArray(String[]::new));
        assertEquals("0", undisturbed[0], undisturbed[1]);
        JsonNode a = Warehouse.JSON.readTree(wh.resolve("runs/full/evaluation.json").toFile());
        JsonNode b = Warehouse.JSON.readTree(tmp.resolve("roomy/runs/full/evaluation.json").toFile());
        System.out.printf("DiskFullIT: refused with: %s%nDiskFullIT: test accuracy %.4f after space was given back, %.4f"
                + " undisturbed%n", line, a.get("accuracy").asDouble(), b.get("accuracy").asDouble());
        assertEquals(b.get("accuracy").asDouble(), a.get("accuracy").asDouble(), "the same run as an undisturbed one");
    }
}
