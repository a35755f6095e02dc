package dev.imgtrain.store;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Free space asked up front, and a write that ran out of space said in one line instead of Spark's words. */
class DiskSpaceTest {
    @TempDir
    java.nio.file.Path dir;
    private Warehouse warehouse;

    @BeforeEach
    void warehouse() {
        DiskSpace.reset();
        warehouse = new Warehouse(dir.resolve("wh").toString(), new Configuration());
    }

    @Test
    void aLocalFileSystemSaysHowMuchIsFreeEvenForAPathNotMadeYet() {
        long free = DiskSpace.free(warehouse, new Path(warehouse.root(), "datasets/mnist/raw"));
        assertEquals(dir.toFile().getUsableSpace(), free, (double) (64 << 20), "the partition's usable space");
    }

    @Test
    void aStageThatNeedsMoreThanIsFreeIsRefusedBeforeItWrites() {
        Path raw = new Path(warehouse.root(), "datasets/mnist/raw");
        DiskSpace.require(warehouse, raw, "the raw table of mnist", 1 << 20); // fits
        long tooMuch = DiskSpace.free(warehouse, raw) + (1L << 30);
        DiskSpace.NoSpaceException e = assertThrows(DiskSpace.NoSpaceException.class,
                () -> DiskSpace.require(warehouse, raw, "the raw table of mnist", tooMuch));
        assertTrue(e.getMessage().startsWith("no space left on the file system of " + raw + " while writing the raw table"
                + " of mnist ("), e.getMessage());
        assertTrue(e.getMessage().contains(" MB needed by this stage, estimated); nothing was committed; free space or"
                + " choose another --warehouse, then run the same command again (the file system reports "), e.getMessage());
        assertEquals(e.getMessage(), DiskSpace.describe(e, "x"));
    }

    @Test
    void noSpaceInsideATaskIsRecognisedAndNamedByTheStageThatWrote() {
        Path batches = new Path(warehouse.root(), "_tmp/batches-r");
        DiskSpace.require(warehouse, batches, "the mini-batch files of run r", 190L << 20);
        // What reaches the driver from a task: Spark's text with the executor's IOException in it.
        RuntimeException fromSpark = new RuntimeException("Job aborted due to stage failure: Task 0 in stage 14.0 failed 1"
                + " times, most recent failure: Lost task 0.0 in stage 14.0 (TID 20) (192.0.2.2 executor driver): "
                + "java.io.IOException: No space left on device\n\nDriver stacktrace:");
        assertTrue(DiskSpace.isNoSpace(fromSpark));
        assertTrue(DiskSpace.isNoSpace(new IllegalStateException("wrapped", new IOException("No space left on device"))));
        assertTrue(DiskSpace.isNoSpace(new IOException("The DiskSpace quota of /user/x is exceeded: quota = 1 B but "
                + "diskspace consumed = 3 B: org.apache.hadoop.hdfs.protocol.DSQuotaExceededException")));
        assertFalse(DiskSpace.isNoSpace(new IOException("Connection refused")));
        assertEquals("no space left on the file system of " + batches + " while writing the mini-batch files of run r"
                + " (190 MB needed by this stage, estimated); nothing was committed; free space or choose another"
                + " --warehouse, then run the same command again", DiskSpace.describe(fromSpark, "x"));
        // An HDFS space quota (the NameNode's own text, as YarnIT meets it on a real HDFS) is called one.
        IOException quota = new IOException("The DiskSpace quota of /imgtrain-quota is exceeded: quota = 3145728 B = 3 MB "
                + "but diskspace consumed = 134217728 B = 128 MB");
        assertTrue(DiskSpace.isNoSpace(new RuntimeException(quota)));
        assertEquals("the HDFS space quota of /imgtrain-quota is exceeded (quota 3 MB, the writes need 128 MB: HDFS counts"
                + " a whole block per file being written) while writing the mini-batch files of run r to " + batches
                + "; nothing was committed; raise the quota (hdfs dfsadmin -setSpaceQuota) or choose another --warehouse,"
                + " then run the same command again", DiskSpace.describe(quota, "x"));
    }
}
