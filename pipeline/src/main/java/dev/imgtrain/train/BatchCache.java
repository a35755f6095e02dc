package dev.imgtrain.train;

import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Decoded mini-batches kept in one executor JVM between epochs ({@code train.batch-cache-mb}), so that from the second
 * epoch on a worker neither reads nor decodes a batch file it has seen. Filled until the budget is reached: every epoch
 * visits every file in a new order, so a full cache of a fixed subset hits as often as any eviction policy could,
 * without churn. It holds the batches of several export directories (the trials of a sweep share theirs, and run
 * side by side). When a batch of one directory does not fit, whole directories are dropped to make room, least
 * recently used (read from or added to) first, but never the one being filled and never one in use: read from within
 * the last {@link #IN_USE_NANOS}. Two runs side by side with a cache too small for both therefore keep what each has
 * (the later one caches what is left) instead of dropping each other's batches every epoch; a run that has ended
 * stops being read and its batches go as soon as another needs the room. Callers get a new {@link DataSet} over the
 * cached arrays each time: DL4J's prefetching iterator replaces a data set's arrays with workspace copies
 * ({@code DataSet.migrate}), which must not reach the cache; the arrays themselves are only read.
 */
final class BatchCache {
    /**
     * How long after its last read a directory counts as in use. A training run reads its batches all through an
     * epoch; between two epochs it validates and writes a checkpoint, which take seconds.
     */
    static final long IN_USE_NANOS = TimeUnit.SECONDS.toNanos(15);
    /** The clock of {@link #IN_USE_NANOS} (tests move it). */
    static LongSupplier clock = System::nanoTime;

    /** One export directory's batches: their bytes (guarded by the class) and when one was last read or added. */
    private static final class Directory {
        final String name;
        long bytes;
        volatile long lastUsed;

        Directory(String name) {
            this.name = name;
        }
    }

    private record Held(DataSet batch, Directory directory) {
    }

    private static final Map<String, Held> BATCHES = new ConcurrentHashMap<>();
    private static final Map<String, Directory> DIRECTORIES = new HashMap<>();
    private static long bytes;
    private static final LongAdder HITS = new LongAdder();

    private BatchCache() {
    }

    /** The cached batch at {@code path}, as a new data set over its arrays, or null. Marks its directory in use. */
    static DataSet get(String path) {
        Held held = BATCHES.get(path);
        if (held == null) {
            return null;
        }
        held.directory().lastUsed = clock.getAsLong();
        HITS.increment();
        return new DataSet(held.batch().getFeatures(), held.batch().getLabels());
    }

    /**
     * Keeps {@code batch} (read from {@code path}) when {@link #wouldKeep} says so, after dropping the batches of
     * other directories not in use, least recently used first, as far as needed; otherwise changes nothing.
     */
    static synchronized void offer(String path, DataSet batch, long budgetBytes) {
        long size = 4L * (batch.getFeatures().length() + batch.getLabels().length());
        if (!wouldKeep(path, size, budgetBytes)) {
            return; // held already, or no room even with the idle others dropped: no reason to drop anything
        }
        long now = clock.getAsLong();
        Directory own = DIRECTORIES.computeIfAbsent(directory(path), Directory::new);
        own.lastUsed = now;
        if (bytes + size > budgetBytes) {
            List<Directory> idle = new ArrayList<>();
            for (Directory d : DIRECTORIES.values()) {
                if (d != own && !inUse(d, now)) {
                    idle.add(d);
                }
            }
            idle.sort(Comparator.comparingLong(d -> d.lastUsed));
            for (Directory d : idle) {
                if (bytes + size <= budgetBytes) {
                    break;
                }
                BATCHES.values().removeIf(h -> h.directory() == d);
                bytes -= d.bytes;
                DIRECTORIES.remove(d.name);
            }
        }
        if (bytes + size <= budgetBytes && BATCHES.putIfAbsent(path, new Held(batch, own)) == null) {
            bytes += size;
            own.bytes += size;
        }
    }

    /**
     * Whether {@link #offer} would keep a batch of {@code size} bytes read from {@code path} now: it is not held yet,
     * and it fits the budget beside its own directory's batches and those of directories in use. A batch that would
     * not be kept need not be created outside DL4J's workspaces ({@link BatchFileLoader}).
     */
    static synchronized boolean wouldKeep(String path, long size, long budgetBytes) {
        if (size > budgetBytes || BATCHES.containsKey(path)) {
            return false;
        }
        long now = clock.getAsLong();
        String name = directory(path);
        long staying = 0; // what no drop would free: this directory's own batches and those of directories in use
        for (Directory d : DIRECTORIES.values()) {
            if (d.name.equals(name) || inUse(d, now)) {
                staying += d.bytes;
            }
        }
        return staying + size <= budgetBytes;
    }

    private static boolean inUse(Directory d, long now) {
        return now - d.lastUsed < IN_USE_NANOS;
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
