package dev.imgtrain.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * imgtrain's mini-batch file: a 20-byte header (magic "IMGB", version, rows, feature columns, label columns), then the
 * features and the labels as little-endian float32, row-major. Written once per run by {@link MiniBatches#export} and
 * read by every worker every epoch, so reading is one bulk copy per array: DL4J's {@code DataSet.load} reads value by
 * value through a {@code DataInputStream} (0.74 s of CPU for MNIST's 939 batches of 64, against 0.12-0.16 s this way;
 * measured in one JVM), and the arrays are filled with one memory copy each ({@link FloatArrays}). The files live
 * under the run's scratch directory only, so the format is private.
 */
final class BatchFile {
    static final int MAGIC = 0x494D4742;
    static final int VERSION = 1;
    static final int HEADER_BYTES = 20;

    private BatchFile() {
    }

    static byte[] encode(DataSet batch) {
        INDArray features = batch.getFeatures();
        INDArray labels = batch.getLabels();
        int rows = Math.toIntExact(features.rows());
        int nFeatures = Math.toIntExact(features.columns());
        int nLabels = Math.toIntExact(labels.columns());
        ByteBuffer bytes = ByteBuffer.allocate(HEADER_BYTES + 4 * rows * (nFeatures + nLabels)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putInt(MAGIC).putInt(VERSION).putInt(rows).putInt(nFeatures).putInt(nLabels);
        FloatArrays.put(features, bytes);
        FloatArrays.put(labels, bytes);
        return bytes.array();
    }

    /** The batch in {@code bytes}; {@code file} names it in the error when the bytes are not a whole batch file. */
    static DataSet decode(byte[] bytes, String file) throws IOException {
        int[] shape = header(ByteBuffer.wrap(bytes), bytes.length, file);
        int rows = shape[0];
        return new DataSet(FloatArrays.matrix(bytes, HEADER_BYTES, rows, shape[1]),
                FloatArrays.matrix(bytes, HEADER_BYTES + 4 * rows * shape[1], rows, shape[2]));
    }

    /**
     * The batch in the local file {@code path}, read straight into the new arrays' memory on the CPU backend: no
     * byte array per batch (200 KB of heap garbage for an MNIST batch of 64, read every epoch when the batches do not
     * fit the batch cache) and one copy fewer. {@code file} names it in errors, as {@link #decode} does.
     */
    static DataSet read(java.nio.file.Path path, String file) throws IOException {
        return read(path, file, null);
    }

    /**
     * As {@link #read(java.nio.file.Path, String)}, into {@code spare}'s arrays where they have the batch's shapes
     * ({@link FloatArrays#reusable}): their values are overwritten, and a batch of other shapes gets new arrays.
     * {@code spare} may be null.
     */
    static DataSet read(java.nio.file.Path path, String file, DataSet spare) throws IOException {
        try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
            long length = in.size();
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(length, HEADER_BYTES));
            FloatArrays.readFully(in, head, file);
            int[] shape = header(head.flip(), length, file);
            INDArray features = FloatArrays.read(in, shape[0], shape[1], file, spare == null ? null : spare.getFeatures());
            INDArray labels = FloatArrays.read(in, shape[0], shape[2], file, spare == null ? null : spare.getLabels());
            return new DataSet(features, labels);
        }
    }

    /**
     * Rows, feature and label columns from the header at {@code in}'s position (what there is of it: fewer than
     * {@link #HEADER_BYTES} remaining is not a batch file), checked against the file's length.
     */
    private static int[] header(ByteBuffer in, long length, String file) throws IOException {
        in.order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < HEADER_BYTES || in.getInt() != MAGIC || in.getInt() != VERSION) {
            throw new IOException(file + ": not an imgtrain mini-batch file (version " + VERSION + ")");
        }
        int rows = in.getInt();
        int nFeatures = in.getInt();
        int nLabels = in.getInt();
        long expected = HEADER_BYTES + 4L * rows * (nFeatures + nLabels);
        if (rows < 0 || nFeatures < 0 || nLabels < 0 || expected != length) {
            throw new IOException(file + ": " + length + " bytes, expected " + expected + " for " + rows + " rows of "
                    + nFeatures + " features and " + nLabels + " labels (truncated or overwritten)");
        }
        return new int[]{rows, nFeatures, nLabels};
    }
}
