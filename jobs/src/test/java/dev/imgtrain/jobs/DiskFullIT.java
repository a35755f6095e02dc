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

    @BeforeAll
    static void mount() throws Exception {
        spark = LocalSpark.start("disk-full");
        small = Files.createDirectories(tmp.resolve("small"));
        Launched mounted = Launched.command(List.of("mount", "-t", "tmpfs", "-o", "size=50m", "tmpfs", small.toString()),
                Map.of(), 30);
        assertEquals(0, mounted.code(), "DiskFullIT mounts a 50 MB tmpfs (the test command runs as root): " + mounted.output());
    }

    @AfterAll
    static void unmount() throws Exception {
        if (small != null) {
            Launched.command(List.of("umount", small.toString()), Map.of(), 30);
        }
        spark.stop();
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
