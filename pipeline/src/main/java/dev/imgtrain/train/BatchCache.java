package dev.imgtrain.train;

import org.nd4j.linalg.dataset.DataSet;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decoded mini-batches kept in one executor JVM between epochs ({@code train.batch-cache-mb}), so that from the second
 * epoch on a worker neither reads nor decodes a batch file it has seen. Filled until the budget is reached, never
 * evicted: every epoch visits every file in a new order, so a full cache of a fixed subset hits as often as any
 * eviction policy could, without churn. It holds one run's batches (one export directory) at a time; a batch from
 * another directory empties it. Callers get a new {@link DataSet} over the cached arrays each time: DL4J's prefetching
 * iterator replaces a data set's arrays with workspace copies ({@code DataSet.migrate}), which must not reach the
 * cache; the arrays themselves are only read.
 */
final class BatchCache {
    private static final Map<String, DataSet> BATCHES = new ConcurrentHashMap<>();
    private static String directory = "";
    private static long bytes;
    private static final java.util.concurrent.atomic.LongAdder HITS = new java.util.concurrent.atomic.LongAdder();

    private BatchCache() {
    }

    /** The cached batch at {@code path}, as a new data set over its arrays, or null. */
    static DataSet get(String path) {
        DataSet cached = BATCHES.get(path);
        if (cached == null) {
            return null;
        }
        HITS.increment();
        return new DataSet(cached.getFeatures(), cached.getLabels());
    }

    /** Keeps {@code batch} (read from {@code path}) if it fits in {@code budgetBytes}; empties the cache on a new run. */
    static synchronized void offer(String path, DataSet batch, long budgetBytes) {
        String dir = path.substring(0, Math.max(0, path.lastIndexOf('/')));
        if (!dir.equals(directory)) {
            BATCHES.clear();
            bytes = 0;
            directory = dir;
        }
        long size = 4L * (batch.getFeatures().length() + batch.getLabels().length());
        if (bytes + size <= budgetBytes && BATCHES.putIfAbsent(path, batch) == null) {
            bytes += size;
        }
    }

    /** Whether every one of {@code paths} is held (in this JVM). */
    static boolean holdsAll(java.util.Collection<String> paths) {
        return BATCHES.keySet().containsAll(paths);
    }

    /** Batches and bytes held now, and the hits since the last {@link #clear} (for tests). */
    static synchronized long[] size() {
        return new long[]{BATCHES.size(), bytes, HITS.sum()};
    }

    /** Empties the cache. */
    static synchronized void clear() {
        BATCHES.clear();
        HITS.reset();
        bytes = 0;
        directory = "";
    }
}
