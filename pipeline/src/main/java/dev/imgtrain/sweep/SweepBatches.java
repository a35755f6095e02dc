package dev.imgtrain.sweep;

import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.TrainJob;
import org.apache.hadoop.fs.Path;
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
 * lease, as any scratch); {@link #close} removes them all, and a killed sweep's are removed as dead scratch.
 */
final class SweepBatches implements TrainJob.SharedBatches, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SweepBatches.class);

    private record Set(Scratch.Dir dir, List<String> files) {
    }

    private final Warehouse warehouse;
    private final String sweepId;
    private final Map<String, Set> sets = new HashMap<>();
    private final Map<String, Object> locks = new HashMap<>();

    SweepBatches(Warehouse warehouse, String sweepId) {
        this.warehouse = warehouse;
        this.sweepId = sweepId;
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
    }
}
