package dev.imgtrain.sweep;

import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.TrainJob;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A sweep's mini-batch files, written once per {@link TrainJob#batchesKey key} and shared by every trial with that key
 * (trials that differ in learning rate or width train on the same batches: with three batch sizes, 27 trials write
 * three sets instead of 27). Each set lives in a scratch directory of the warehouse held by this sweep (an owner
 * lease, as any scratch); {@link #close} removes them all, and a killed sweep's are removed as dead scratch. It also
 * holds the frames every trial reads again: the validation splits and the test split, persisted by Spark after their
 * first read (read and filtered out of the whole features table each time, the test split took about a second per
 * trial's evaluation).
 */
final class SweepBatches implements TrainJob.SharedBatches, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SweepBatches.class);

    private record Set(Scratch.Dir dir, List<String> files) {
    }

    private final Warehouse warehouse;
    private final String sweepId;
    private final Map<String, Set> sets = new HashMap<>();
    private final Map<String, Object> locks = new HashMap<>();
    private final List<Dataset<Row>> persisted = new ArrayList<>();
    private final Map<Dataset<Row>, Long> counted = new java.util.LinkedHashMap<>();
    private final Dataset<Row> test;

    SweepBatches(Warehouse warehouse, String sweepId, Dataset<Row> test) {
        this.warehouse = warehouse;
        this.sweepId = sweepId;
        this.test = persisted(test);
    }

    /**
     * {@code frame}, persisted once for the whole sweep: trials with the same validation split (fraction and seed)
     * read the same cached data, and no trial's end unpersists what another still reads.
     */
    @Override
    public synchronized Dataset<Row> persisted(Dataset<Row> frame) {
        Dataset<Row> same = sameAs(persisted, frame);
        if (same != null) {
            return same;
        }
        frame.persist(StorageLevel.MEMORY_AND_DISK());
        persisted.add(frame);
        return frame;
    }

    /**
     * The rows of {@code frame}, counted once for the whole sweep: every trial (and every resumption of a paused ASHA
     * trial) with the same split would otherwise count its train split again, a Spark job over the whole features
     * table.
     */
    @Override
    public long count(Dataset<Row> frame) {
        synchronized (counted) {
            Dataset<Row> same = sameAs(counted.keySet(), frame);
            if (same != null) {
                return counted.get(same);
            }
        }
        long rows = frame.count(); // outside the lock: trials with other splits count at the same time
        synchronized (counted) {
            counted.put(frame, rows);
        }
        return rows;
    }

    /** The frame among {@code frames} with the meaning of {@code frame} (Spark's sameSemantics); null when none. */
    private static Dataset<Row> sameAs(Iterable<Dataset<Row>> frames, Dataset<Row> frame) {
        for (Dataset<Row> f : frames) {
            if (f.sameSemantics(frame)) {
                return f;
            }
        }
        return null;
    }

    /** The test split every trial is evaluated on. */
    Dataset<Row> test() {
        return test;
    }

    @Override
    public List<String> files(String key, Function<Path, List<String>> export) {
        Object lock;
        synchronized (locks) {
            lock = locks.computeIfAbsent(key, k -> new Object());
        }
        synchronized (lock) { // trials with another key export at the same time; with this one they wait for it
            Set set;
            synchronized (sets) {
                set = sets.get(key);
            }
            if (set != null) {
                LOG.info("sweep {}: {} mini-batch files shared with an earlier trial ({})", sweepId, set.files().size(), key);
                return set.files();
            }
            Scratch.Dir dir = Scratch.open(warehouse, "batches-" + sweepId + "-" + Integer.toHexString(key.hashCode()));
            try {
                List<String> files = export.apply(dir.path());
                synchronized (sets) {
                    sets.put(key, new Set(dir, files));
                }
                return files;
            } catch (RuntimeException | Error e) {
                dir.close();
                throw e;
            }
        }
    }

    @Override
    public void close() {
        List<Set> all;
        synchronized (sets) {
            all = new ArrayList<>(sets.values());
            sets.clear();
        }
        all.forEach(s -> s.dir().close());
        synchronized (this) {
            persisted.forEach(Dataset::unpersist);
            persisted.clear();
        }
    }
}
