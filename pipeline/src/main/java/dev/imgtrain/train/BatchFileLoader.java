package dev.imgtrain.train;

import org.deeplearning4j.core.loader.DataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;

/**
 * Reads one mini-batch file written by {@link MiniBatches#export} in a training task. It travels inside DL4J's worker
 * function, so it is deserialized at the start of every training task, before DL4J's worker creates its statistics
 * clock: {@link #readObject} points that clock at the system clock there (see {@link TrainingStats}), on every
 * executor JVM, whatever the cluster's Java options.
 */
final class BatchFileLoader implements DataSetLoader {
    private static final long serialVersionUID = 1L;

    @Override
    public DataSet load(Source source) throws IOException {
        try (InputStream in = source.getInputStream()) {
            return BatchFile.decode(in.readAllBytes(), source.getPath());
        }
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        TrainingStats.useSystemClockUnlessSet();
    }
}
