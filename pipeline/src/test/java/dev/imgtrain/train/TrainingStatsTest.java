package dev.imgtrain.train;

import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.stats.BaseEventStats;
import org.deeplearning4j.spark.stats.EventStats;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingStatsTest {
    /** DL4J's statistics as the driver holds them: every round's task events so far, under one key. */
    private static SparkTrainingStats workerTotals(List<EventStats> events) {
        return new SparkTrainingStats() {
            @Override
            public Set<String> getKeySet() {
                return Set.of("WorkerFlatMapTotalTimeMs");
            }

            @Override
            public List<EventStats> getValue(String key) {
                return events;
            }

            @Override
            public String getShortNameForKey(String key) {
                return key;
            }

            @Override
            public boolean defaultIncludeInPlots(String key) {
                return false;
            }

            @Override
            public void addOtherTrainingStats(SparkTrainingStats other) {
                throw new UnsupportedOperationException();
            }

            @Override
            public SparkTrainingStats getNestedTrainingStats() {
                return null;
            }

            @Override
            public String statsAsString() {
                return "";
            }

            @Override
            public void exportStatFiles(String outputPath, org.apache.spark.SparkContext sc) {
                throw new UnsupportedOperationException();
            }
        };
    }

    private static EventStats task(long start, long duration) {
        return new BaseEventStats("m", "jvm", 1, start, duration);
    }

    @Test
    void eachRoundIsItsSlowestTaskAndWhatIsOutsideTheWorkers() {
        List<EventStats> events = new ArrayList<>(List.of(task(1_000, 400), task(1_002, 450)));
        SparkTrainingStats stats = workerTotals(events);
        TrainingStats.Rounds rounds = new TrainingStats.Rounds();
        rounds.add(stats, 1_000, 500);
        events.addAll(List.of(task(2_001, 500), task(2_000, 380)));
        rounds.add(stats, 2_000, 560); // the first round's tasks are still in the list and not counted again
        rounds.add(workerTotals(List.of()), 3_000, 300); // no task events (statistics off): left out
        assertEquals(Map.of("count", 2L, "wall_ms", 1_060L, "slowest_worker_ms", 950L, "outside_workers_ms", 110L,
                "worker_spread_ms", 170L), rounds.toMap());
    }

    @Test
    void collectionsCountThisJvmsCollections() {
        long[] before = TrainingStats.collections();
        System.gc();
        Map<String, Object> between = TrainingStats.collectionsBetween(before, TrainingStats.collections());
        assertTrue((Long) between.get("count") >= 1, "System.gc() is a collection: " + between);
        assertTrue((Long) between.get("ms") >= 0, between.toString());
    }
}
