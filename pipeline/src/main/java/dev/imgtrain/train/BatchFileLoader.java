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
 */
final class BatchFileLoader implements DataSetLoader {
    private static final long serialVersionUID = 2L;

    private final long cacheBytes;

    /** @param cacheBytes this executor's budget for decoded batches ({@code train.batch-cache-mb}); 0: none */
    BatchFileLoader(long cacheBytes) {
        this.cacheBytes = cacheBytes;
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
