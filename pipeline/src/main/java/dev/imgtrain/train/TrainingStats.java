package dev.imgtrain.train;

import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.stats.EventStats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * DL4J's parameter-averaging statistics (collected with {@code setCollectTrainingStats(true)}), summarised for
 * {@code training-stats.json}: for each statistic (driver-side broadcast, split, aggregation, process-params times;
 * worker-side fit, broadcast fetch, init times; ...) its event count, total and maximum milliseconds, overall and per
 * worker JVM, so users see where time goes and which executors trained.
 */
public final class TrainingStats {
    /** DL4J's property for the clock its statistics use; its default queries an NTP server on the internet. */
    static final String TIME_SOURCE_PROPERTY = "org.deeplearning4j.spark.time.TimeSource";
    static final String SYSTEM_CLOCK = "org.deeplearning4j.spark.time.SystemClockTimeSource";

    private TrainingStats() {
    }

    /**
     * Makes DL4J's statistics use this JVM's clock unless a time source was chosen explicitly. Called on the driver
     * and, through {@link BatchFileLoader}'s deserialization, at the start of every training task on the executors;
     * clusters whose nodes' clocks differ can still choose NTP with
     * {@code -Dorg.deeplearning4j.spark.time.TimeSource=...NTPTimeSource}.
     */
    public static void useSystemClockUnlessSet() {
        if (System.getProperty(TIME_SOURCE_PROPERTY) == null) {
            System.setProperty(TIME_SOURCE_PROPERTY, SYSTEM_CLOCK);
        }
    }

    /**
     * This JVM's garbage collections so far, summed over its collectors: {count, milliseconds}. On a local master the
     * workers are threads of the driver's JVM, so the difference over an epoch is the pauses its training saw.
     */
    static long[] collections() {
        long count = 0;
        long millis = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new long[]{count, millis};
    }

    /** {@code {"count": .., "ms": ..}}: the collections between two {@link #collections()} snapshots. */
    static Map<String, Object> collectionsBetween(long[] before, long[] after) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", after[0] - before[0]);
        m.put("ms", after[1] - before[1]);
        return m;
    }

    /**
     * The statistics of events that started at or after {@code sinceMillis} (DL4J accumulates them over all fits);
     * {@code stats} may be null (collection off).
     */
    public static Map<String, Object> summarise(SparkTrainingStats stats, long sinceMillis) {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> byStat = new TreeMap<>();
        Map<String, Map<String, Object>> byWorker = new TreeMap<>();
        for (SparkTrainingStats s = stats; s != null; s = s.getNestedTrainingStats()) {
            for (String key : s.getKeySet()) {
                List<EventStats> all = s.getValue(key);
                List<EventStats> events = all == null ? List.of()
                        : all.stream().filter(e -> e.getStartTime() >= sinceMillis).toList();
                if (events.isEmpty()) {
                    continue;
                }
                byStat.put(key, totals(events));
                Map<String, List<EventStats>> perJvm = new TreeMap<>();
                for (EventStats e : events) {
                    perJvm.computeIfAbsent(e.getMachineID() + "/" + e.getJvmID(), k -> new ArrayList<>()).add(e);
                }
                perJvm.forEach((jvm, list) -> {
                    Map<String, Object> worker = byWorker.computeIfAbsent(jvm, k -> {
                        Map<String, Object> w = new LinkedHashMap<>();
                        w.put("machine", list.get(0).getMachineID());
                        w.put("jvm", list.get(0).getJvmID());
                        w.put("stats", new TreeMap<String, Object>());
                        return w;
                    });
                    @SuppressWarnings("unchecked")
                    Map<String, Object> ws = (Map<String, Object>) worker.get("stats");
                    ws.put(key, totals(list));
                });
            }
        }
        out.put("stats", byStat);
        out.put("jvms", new ArrayList<>(byWorker.values()));
        return out;
    }

    private static Map<String, Object> totals(List<EventStats> events) {
        long total = 0;
        long max = 0;
        for (EventStats e : events) {
            total += e.getDurationMs();
            max = Math.max(max, e.getDurationMs());
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("count", events.size());
        t.put("total_ms", total);
        t.put("max_ms", max);
        return t;
    }

    /**
     * Where an epoch's averaging rounds spent their wall time: per round, the slowest worker's task (DL4J's
     * {@code WorkerFlatMapTotalTimeMs}: from the task's first batch to its last step) bounds the round, and the rest of
     * it is outside the workers (launching the tasks, building each worker's network, returning and averaging the
     * results). {@code worker_spread_ms} sums, per round, the slowest task's time less the fastest's: what an uneven
     * split or a slower core costs. Needs DL4J's statistics ({@code train.collect-stats}).
     */
    static final class Rounds {
        private static final String WORKER_TOTAL = "WorkerFlatMapTotalTimeMs";
        private long count;
        private long wallMs;
        private long slowestMs;
        private long spreadMs;

        /** A round that started at {@code sinceMillis} (this JVM's clock, as DL4J's events) and took {@code wallMs}. */
        void add(SparkTrainingStats stats, long sinceMillis, long wallMs) {
            long slowest = 0;
            long fastest = Long.MAX_VALUE;
            for (SparkTrainingStats s = stats; s != null; s = s.getNestedTrainingStats()) {
                List<EventStats> events = s.getKeySet().contains(WORKER_TOTAL) ? s.getValue(WORKER_TOTAL) : null;
                if (events == null) {
                    continue;
                }
                for (EventStats e : events) { // every round's tasks so far: one event per task
                    if (e.getStartTime() >= sinceMillis) {
                        slowest = Math.max(slowest, e.getDurationMs());
                        fastest = Math.min(fastest, e.getDurationMs());
                    }
                }
            }
            if (fastest == Long.MAX_VALUE) {
                return; // no task events (statistics off): the round cannot be split, so it is left out
            }
            count++;
            this.wallMs += wallMs;
            slowestMs += slowest;
            spreadMs += slowest - fastest;
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("count", count);
            m.put("wall_ms", wallMs);
            m.put("slowest_worker_ms", slowestMs);
            m.put("outside_workers_ms", wallMs - slowestMs);
            m.put("worker_spread_ms", spreadMs);
            return m;
        }
    }
}
