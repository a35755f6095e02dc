package dev.imgtrain.train;

import org.deeplearning4j.core.loader.DataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.io.ObjectInputStream;

/**
 * Reads one mini-batch file written by {@link MiniBatches#export} in a training task. It travels inside DL4J's worker
 * function, so it is deserialized at the start of every training task, before DL4J's worker creates its statistics
 * clock: {@link #readObject} points that clock at the system clock there (see {@link TrainingStats}), on every
 * executor JVM, whatever the cluster's Java options. Batches it decodes go to the executor's {@link BatchCache} (up to
 * {@code cacheBytes}), and a cached batch is not read again.
 *
 * <p>Without prefetching ({@code train.prefetch} 0), DL4J's worker calls the loader in the training task's own thread,
 * for the next batch only once it is done with the last one (its {@code IteratorDataSetIterator} hands a loaded batch
 * on as it is; {@code hasNext} reads nothing). A local batch file the cache will not keep is then read into the arrays
 * of that thread's last such batch ({@link #SPARE}): no allocation, nothing for the collector or ND4J's deallocator.
 * With prefetching, batches are loaded ahead in DL4J's loader thread, and each one gets arrays of its own.
 */
final class BatchFileLoader implements DataSetLoader {
    private static final long serialVersionUID = 3L;
    /**
     * Per executor thread: the arrays of the last unkept batch read for a task without prefetching; created outside
     * every workspace, and kept for the thread's next task.
     */
    private static final ThreadLocal<DataSet> SPARE = new ThreadLocal<>();

    private final long cacheBytes;
    private final boolean reuseArrays;

    /**
     * @param cacheBytes  this executor's budget for decoded batches ({@code train.batch-cache-mb}); 0: none
     * @param reuseArrays the worker loads each batch in its own thread once done with the last one (no prefetching):
     *                    unkept local batches may then be read into the arrays of the last one
     */
    BatchFileLoader(long cacheBytes, boolean reuseArrays) {
        this.cacheBytes = cacheBytes;
        this.reuseArrays = reuseArrays;
    }

    @Override
    public DataSet load(Source source) throws IOException {
        String path = source.getPath();
        if (cacheBytes > 0) {
            DataSet cached = BatchCache.get(path);
            if (cached != null) {
                return cached;
            }
        }
        java.nio.file.Path local = path.startsWith("file:")
                ? java.nio.file.Path.of(new org.apache.hadoop.fs.Path(path).toUri()) : null;
        byte[] bytes = local == null ? read(source) : null;
        long size = (local != null ? Files.size(local) : bytes.length) - BatchFile.HEADER_BYTES;
        if (cacheBytes <= 0 || !BatchCache.wouldKeep(path, size, cacheBytes)) {
            if (reuseArrays && local != null) {
                DataSet batch;
                try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                    batch = BatchFile.read(local, path, SPARE.get());
                }
                SPARE.set(batch);
                return new DataSet(batch.getFeatures(), batch.getLabels());
            }
            // Not kept: created where DL4J's loader wants it (its prefetch thread's cyclic workspace, whose memory is
            // reused for the next batches), which costs no allocation, and nothing is left for the collector.
            return local != null ? BatchFile.read(local, path) : BatchFile.decode(bytes, path);
        }
        // A batch to keep must be created outside every workspace (a cached one from inside it came back as NaNs a
        // few rounds later).
        DataSet batch;
        try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            batch = local != null ? BatchFile.read(local, path) : BatchFile.decode(bytes, path);
        }
        BatchCache.offer(path, batch, cacheBytes);
        return new DataSet(batch.getFeatures(), batch.getLabels());
    }

    /**
     * The file's bytes, through DL4J's source (Hadoop's file system: HDFS, S3A). A {@code file:} path is not read
     * this way: Hadoop's local file system reads through its checksum layer (the batch files have no .crc:
     * {@link MiniBatches#export} writes them with java.nio) in small pieces, which cost 1-2 ms of CPU per 200 KB batch
     * against 0.1 ms with java.nio ({@link BatchFile#read}).
     */
    static byte[] read(Source source) throws IOException {
        try (InputStream in = source.getInputStream()) {
            return in.readAllBytes();
        }
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        TrainingStats.useSystemClockUnlessSet();
    }
}
