package dev.imgtrain.train;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

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

    @AfterEach
    void empty() {
        BatchCache.clear();
    }

    @Test
    void directoriesShareTheBudgetAndTheLeastRecentlyUsedGoesFirst() {
        long budget = 2_000; // five batches
        BatchCache.offer("/w/a/0", batch(), budget);
        BatchCache.offer("/w/a/1", batch(), budget);
        BatchCache.offer("/w/b/0", batch(), budget);
        BatchCache.offer("/w/a/2", batch(), budget); // a used after b
        assertEquals(4, BatchCache.size()[0], "two directories side by side, both kept");
        assertNotNull(BatchCache.get("/w/a/0"));
        assertNotNull(BatchCache.get("/w/b/0"));

        BatchCache.offer("/w/c/0", batch(), budget); // fits: five batches
        assertEquals(5, BatchCache.size()[0]);
        BatchCache.offer("/w/c/1", batch(), budget); // does not: b, the least recently offered, goes whole
        assertNull(BatchCache.get("/w/b/0"));
        assertNotNull(BatchCache.get("/w/a/2"));
        assertEquals(java.util.List.of(5L, 2_000L), java.util.List.of(BatchCache.size()[0], BatchCache.size()[1]));

        for (int i = 2; i < 8; i++) {
            BatchCache.offer("/w/c/" + i, batch(), budget); // a goes too, then c stops at the budget
        }
        assertTrue(BatchCache.holdsAll(java.util.List.of("/w/c/0", "/w/c/1", "/w/c/2", "/w/c/3", "/w/c/4")));
        assertFalse(BatchCache.holdsAll(java.util.List.of("/w/c/5")), "a directory never drops its own batches");
        assertNull(BatchCache.get("/w/a/0"));
        assertEquals(2_000L, BatchCache.size()[1]);
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
        assertTrue(BatchCache.wouldKeep("/w/a/1", 400, budget), "b would be dropped for it");
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
        assertFalse(BatchCache.wouldKeep("/w/a/2", 400, 1_000));
        BatchCache.offer("/w/a/2", batch(), 1_000);
        assertNull(BatchCache.get("/w/a/2"));
        assertNotNull(BatchCache.get("/w/b/0"), "b stays: dropping it would not have made room for a's batch");
    }
}
