package dev.imgtrain.store;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Function;

/**
 * The one way a stage uses scratch space: a fresh directory under {@code <warehouse>/_tmp/} with an owner lease beside
 * it ({@code _tmp/<name>.owner}, see {@link Lease}), both removed when the stage ends. Opening one first removes the
 * scratch of dead processes (a killed run's mini-batches: hundreds of MB): entries whose owner is dead, and entries
 * with no owner lease (older versions, or a crash between the two creates) not modified for the warehouse's stale age.
 * A live process's scratch is never touched.
 */
public final class Scratch {
    private static final Logger LOG = LoggerFactory.getLogger(Scratch.class);
    static final long WAIT_FOR_TASKS_MILLIS = 30_000;
    static final String OWNER_SUFFIX = ".owner";

    private Scratch() {
    }

    /** A scratch directory held by this process; {@link #close()} deletes it and its lease. */
    public static final class Dir implements AutoCloseable {
        private final Warehouse warehouse;
        private final Path path;
        private final Lease owner;

        private Dir(Warehouse warehouse, Path path, Lease owner) {
            this.warehouse = warehouse;
            this.path = path;
            this.owner = owner;
        }

        public Path path() {
            return path;
        }

        /** The owner lease first, then the directory: see {@link #abandoned}. */
        @Override
        public void close() {
            owner.close();
            warehouse.deleteQuietly(path);
        }
    }

    /** Removes dead scratch, then names a fresh directory for {@code purpose} (not created: writers create it). */
    public static Dir open(Warehouse warehouse, String purpose) {
        removeDead(warehouse);
        Path dir = warehouse.newTempDir(purpose);
        Lease owner = Lease.create(warehouse, new Path(dir.getParent(), dir.getName() + OWNER_SUFFIX), purpose);
        return new Dir(warehouse, dir, owner);
    }

    /**
     * Runs {@code stage} with a scratch directory. After a failure it first waits for Spark tasks still running:
     * Spark aborts a job when one task fails without waiting for the others, which would otherwise go on writing into
     * the directory after it was removed.
     */
    public static <T> T use(Warehouse warehouse, SparkContext sc, String purpose, Function<Path, T> stage) {
        try (Dir dir = open(warehouse, purpose)) {
            try {
                return stage.apply(dir.path());
            } catch (Throwable failure) {
                SparkFailures.awaitNoRunningTasks(sc, WAIT_FOR_TASKS_MILLIS);
                throw failure;
            }
        }
    }

    /**
     * For a task that has finished writing into {@code scratchDir}: whether the stage that owns it is over (its owner
     * lease is gone, as after a failed job). Then the directory is deleted here, since the driver may have removed it
     * before this task wrote (Spark fails a job without waiting for its other tasks, and a cancelled task that does not
     * check for interrupts runs on). The driver deletes the lease before the directory, so a task that still finds
     * the lease wrote before the driver's delete, which then takes its file with it.
     */
    public static boolean abandoned(Path scratchDir, org.apache.hadoop.fs.FileSystem fs) throws IOException {
        if (fs.exists(new Path(scratchDir.getParent(), scratchDir.getName() + OWNER_SUFFIX))) {
            return false;
        }
        fs.delete(scratchDir, true);
        return true;
    }

    /** Deletes what dead processes left under {@code _tmp/}; returns how many entries went. */
    public static int removeDead(Warehouse warehouse) {
        FileStatus[] entries;
        try {
            entries = warehouse.fs().listStatus(warehouse.tmpDir());
        } catch (FileNotFoundException none) {
            return 0;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(warehouse.tmpDir() + ": cannot list: " + e.getMessage(), e);
        }
        java.util.Set<String> names = new java.util.HashSet<>();
        for (FileStatus s : entries) {
            names.add(s.getPath().getName());
        }
        int removed = 0;
        long now = System.currentTimeMillis();
        for (FileStatus s : entries) {
            String name = s.getPath().getName();
            Path entry = s.getPath();
            String why;
            if (name.endsWith(OWNER_SUFFIX)) {
                String dirName = name.substring(0, name.length() - OWNER_SUFFIX.length());
                Optional<Lease.Holder> holder = Lease.holder(warehouse, entry);
                if (holder.isEmpty() || holder.get().alive()) {
                    continue;
                }
                why = "its owner is dead: " + holder.get().describe();
                if (names.contains(dirName)) {
                    Path dir = new Path(entry.getParent(), dirName);
                    LOG.info("removing {}: {}", dir, why);
                    warehouse.deleteQuietly(dir);
                }
                warehouse.deleteQuietly(entry);
                removed++;
            } else if (!names.contains(name + OWNER_SUFFIX) && !name.startsWith("_")
                    && now - s.getModificationTime() > warehouse.staleAfter().toMillis()) {
                LOG.info("removing {}: no owner, not modified for more than {}", entry, warehouse.staleAfter());
                warehouse.deleteQuietly(entry);
                removed++;
            }
        }
        return removed;
    }
}
