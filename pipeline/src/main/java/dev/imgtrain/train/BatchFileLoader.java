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
        if (cacheBytes <= 0) {
            return BatchFile.decode(read(source), source.getPath());
        }
        DataSet cached = BatchCache.get(source.getPath());
        if (cached != null) {
            return cached;
        }
        // DL4J's prefetching iterator calls this inside its own cyclic workspace, whose memory is reused for the next
        // batches: a batch to keep must be created outside every workspace (a cached one from inside it came back as
        // NaNs a few rounds later).
        DataSet batch;
        byte[] bytes = read(source);
        try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            batch = BatchFile.decode(bytes, source.getPath());
        }
        BatchCache.offer(source.getPath(), batch, cacheBytes);
        return new DataSet(batch.getFeatures(), batch.getLabels());
    }

    /**
     * The file's bytes. A {@code file:} path is read with java.nio: Hadoop's local file system reads through its
     * checksum layer (the batch files have no .crc: {@link MiniBatches#export} writes them with java.nio) in small
     * pieces, which cost 1-2 ms of CPU per 200 KB batch against 0.1 ms; other file systems through DL4J's source.
     */
    static byte[] read(Source source) throws IOException {
        String path = source.getPath();
        if (path.startsWith("file:")) {
            return Files.readAllBytes(java.nio.file.Path.of(new org.apache.hadoop.fs.Path(path).toUri()));
        }
        try (InputStream in = source.getInputStream()) {
            return in.readAllBytes();
        }
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        TrainingStats.useSystemClockUnlessSet();
    }
}
