package dev.imgtrain.train;

import org.nd4j.linalg.dataset.DataSet;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decoded mini-batches kept in one executor JVM between epochs ({@code train.batch-cache-mb}), so that from the second
 * epoch on a worker neither reads nor decodes a batch file it has seen. Filled until the budget is reached: every epoch
 * visits every file in a new order, so a full cache of a fixed subset hits as often as any eviction policy could,
 * without churn. It holds the batches of several export directories (the trials of a sweep share theirs, and run
 * side by side); when a batch of one directory does not fit, whole directories used least recently are dropped to make
 * room, never a part of the one being filled. Callers get a new {@link DataSet} over the cached arrays each time:
 * DL4J's prefetching iterator replaces a data set's arrays with workspace copies ({@code DataSet.migrate}), which must
 * not reach the cache; the arrays themselves are only read.
 */
final class BatchCache {
    private static final Map<String, DataSet> BATCHES = new ConcurrentHashMap<>();
    /** Bytes held per directory, least recently offered a batch first. */
    private static final java.util.LinkedHashMap<String, Long> DIRECTORIES = new java.util.LinkedHashMap<>(16, 0.75f, true);
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

    /**
     * Keeps {@code batch} (read from {@code path}) when {@link #wouldKeep} says so, after dropping the batches of
     * other directories, least recently used first, as far as needed; otherwise changes nothing.
     */
    static synchronized void offer(String path, DataSet batch, long budgetBytes) {
        String dir = directory(path);
        long size = 4L * (batch.getFeatures().length() + batch.getLabels().length());
        if (!wouldKeep(path, size, budgetBytes)) {
            return; // held already, or no room even with the others dropped: no reason to drop anything
        }
        DIRECTORIES.merge(dir, 0L, Long::sum); // now the most recently used
        var it = DIRECTORIES.entrySet().iterator();
        while (bytes + size > budgetBytes && it.hasNext()) {
            var oldest = it.next();
            if (!oldest.getKey().equals(dir)) {
                String prefix = oldest.getKey() + "/";
                BATCHES.keySet().removeIf(p -> p.startsWith(prefix) && p.indexOf('/', prefix.length()) < 0);
                bytes -= oldest.getValue();
                it.remove();
            }
        }
        if (bytes + size <= budgetBytes && BATCHES.putIfAbsent(path, batch) == null) {
            bytes += size;
            DIRECTORIES.merge(dir, size, Long::sum);
        }
    }

    /**
     * Whether {@link #offer} would keep a batch of {@code size} bytes read from {@code path} now: it is not held yet,
     * and it fits the budget once the other directories' batches are dropped. A batch that would not be kept need not
     * be created outside DL4J's workspaces ({@link BatchFileLoader}).
     */
    static synchronized boolean wouldKeep(String path, long size, long budgetBytes) {
        if (size > budgetBytes || BATCHES.containsKey(path)) {
            return false;
        }
        Long own = DIRECTORIES.get(directory(path));
        return (own == null ? 0 : own) + size <= budgetBytes;
    }

    private static String directory(String path) {
        return path.substring(0, Math.max(0, path.lastIndexOf('/')));
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
        DIRECTORIES.clear();
        HITS.reset();
        bytes = 0;
    }
}
