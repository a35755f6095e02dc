package dev.imgtrain.train;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cache's budget across directories: the trials of a sweep run side by side, each over its own batch files. */
class BatchCacheTest {
    /** 10 examples of 6 features and 4 labels: 400 bytes. */
    private static DataSet batch() {
        return new DataSet(Nd4j.rand(10, 6), Nd4j.rand(10, 4));
    }

    /** The cache's clock, in nanoseconds, moved by the tests. */
    private final AtomicLong now = new AtomicLong();

    private void at(double seconds) {
        now.set((long) (seconds * 1e9));
    }

    @BeforeEach
    void fakeClock() {
        BatchCache.clock = now::get;
    }

    @AfterEach
    void empty() {
        BatchCache.clear();
        BatchCache.clock = System::nanoTime;
    }

    @Test
    void directoriesShareTheBudgetAndTheLeastRecentlyUsedIdleOneGoesFirst() {
        long budget = 2_000; // five batches
        at(0);
        BatchCache.offer("/w/a/0", batch(), budget);
        BatchCache.offer("/w/a/1", batch(), budget);
        at(1);
        BatchCache.offer("/w/b/0", batch(), budget);
        at(2);
        BatchCache.offer("/w/a/2", batch(), budget); // a added to after b
        assertEquals(4, BatchCache.size()[0], "two directories side by side, both kept");
        at(3);
        assertNotNull(BatchCache.get("/w/a/0"));
        at(4);
        assertNotNull(BatchCache.get("/w/b/0")); // a read: b is now the more recently used

        at(30); // both idle
        BatchCache.offer("/w/c/0", batch(), budget); // fits: five batches
        assertEquals(5, BatchCache.size()[0]);
        BatchCache.offer("/w/c/1", batch(), budget); // does not: a, the least recently used, goes whole
        assertNull(BatchCache.get("/w/a/0"));
        assertNull(BatchCache.get("/w/a/2"));
        assertEquals(java.util.List.of(3L, 1_200L), java.util.List.of(BatchCache.size()[0], BatchCache.size()[1]),
                "a's three batches went, b's and c's stay");
        assertNotNull(BatchCache.get("/w/b/0")); // in use again now

        at(50);
        for (int i = 2; i < 8; i++) {
            BatchCache.offer("/w/c/" + i, batch(), budget); // b goes too, then c stops at the budget
        }
        assertTrue(BatchCache.holdsAll(java.util.List.of("/w/c/0", "/w/c/1", "/w/c/2", "/w/c/3", "/w/c/4")));
        assertFalse(BatchCache.holdsAll(java.util.List.of("/w/c/5")), "a directory never drops its own batches");
        assertNull(BatchCache.get("/w/b/0"));
        assertEquals(2_000L, BatchCache.size()[1]);
    }

    /**
     * Two runs side by side with a cache too small for both: the one read from keeps its batches, and the other caches
     * what is left, instead of each dropping the other's every epoch. Once a run stops reading, its batches go.
     */
    @Test
    void aDirectoryInUseIsNotDropped() {
        long budget = 2_000;
        at(0);
        for (int i = 0; i < 4; i++) {
            BatchCache.offer("/w/a/" + i, batch(), budget);
        }
        at(10);
        assertNotNull(BatchCache.get("/w/a/0"));
        at(12);
        BatchCache.offer("/w/b/0", batch(), budget); // fits beside a
        assertFalse(BatchCache.wouldKeep("/w/b/1", 400, budget), "a is in use");
        BatchCache.offer("/w/b/1", batch(), budget);
        assertEquals(5, BatchCache.size()[0]);
        assertNull(BatchCache.get("/w/b/1"));
        at(24.999);
        assertFalse(BatchCache.wouldKeep("/w/b/1", 400, budget), "read 14.999 s ago: still in use");
        at(25);
        assertTrue(BatchCache.wouldKeep("/w/b/1", 400, budget), "a, idle for 15 s, would be dropped");
        BatchCache.offer("/w/b/1", batch(), budget);
        assertTrue(BatchCache.holdsAll(java.util.List.of("/w/b/0", "/w/b/1")));
        assertEquals(java.util.List.of(2L, 800L), java.util.List.of(BatchCache.size()[0], BatchCache.size()[1]));
        assertNull(BatchCache.get("/w/a/1"));
    }

    @Test
    void aBatchLargerThanTheBudgetIsNotKeptAndDropsNothingItCannotUse() {
        BatchCache.offer("/w/a/0", batch(), 400);
        BatchCache.offer("/w/a/1", batch(), 400);
        assertEquals(1, BatchCache.size()[0]);
        BatchCache.offer("/w/b/0", batch(), 0); // a run with batch-cache-mb = 0 in the same JVM
        assertNull(BatchCache.get("/w/b/0"));
        assertNotNull(BatchCache.get("/w/a/0"), "what another run cached stays");
    }

    /** wouldKeep answers what offer would do: a batch that will not be kept is decoded inside DL4J's workspace. */
    @Test
    void wouldKeepSaysWhetherOfferKeeps() {
        long budget = 800; // two batches
        assertTrue(BatchCache.wouldKeep("/w/a/0", 400, budget));
        BatchCache.offer("/w/a/0", batch(), budget);
        assertFalse(BatchCache.wouldKeep("/w/a/0", 400, budget), "held already");
        BatchCache.offer("/w/b/0", batch(), budget);
        assertFalse(BatchCache.wouldKeep("/w/a/1", 400, budget), "b is in use");
        at(20);
        assertTrue(BatchCache.wouldKeep("/w/a/1", 400, budget), "b, idle, would be dropped for it");
        BatchCache.offer("/w/a/1", batch(), budget);
        assertFalse(BatchCache.wouldKeep("/w/a/2", 400, budget), "a full cache of a's own batches");
        BatchCache.offer("/w/a/2", batch(), budget);
        assertNull(BatchCache.get("/w/a/2"));
        assertFalse(BatchCache.wouldKeep("/w/c/0", 900, budget), "larger than the budget");

        // offer keeps exactly what wouldKeep allows: a batch with no room even with the others dropped drops nothing.
        BatchCache.clear();
        BatchCache.offer("/w/a/0", batch(), 1_000);
        BatchCache.offer("/w/a/1", batch(), 1_000);
        BatchCache.offer("/w/b/0", new DataSet(Nd4j.rand(1, 6), Nd4j.rand(1, 4)), 1_000); // 40 bytes
        at(60); // b idle
        assertFalse(BatchCache.wouldKeep("/w/a/2", 400, 1_000));
        BatchCache.offer("/w/a/2", batch(), 1_000);
        assertNull(BatchCache.get("/w/a/2"));
        assertNotNull(BatchCache.get("/w/b/0"), "b stays: dropping it would not have made room for a's batch");
    }
}
