package dev.imgtrain.train;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.util.SerializableConfiguration;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * The one place where feature rows become ND4J mini-batches: rows with {@code features} and {@code label_onehot}
 * (array&lt;float&gt;) → {@link DataSet}s of up to {@code batchSize} examples, built on the executors, one partition at
 * a time, so no example passes through the driver. Rows are read as Spark's internal rows, whose arrays copy into
 * primitive {@code float[]}s ({@link Example}) in one go: a bean encoder boxes every float of an
 * {@code array<float>} that may hold nulls (a quarter of an MNIST export's time went to {@code Float.valueOf}).
 */
public final class MiniBatches {
    public static final String FEATURES = "features";
    public static final String LABELS = "label_onehot";

    private MiniBatches() {
    }

    /** One example as the mini-batch builder reads it: features and one-hot label as primitive arrays. */
    public static final class Example implements Serializable {
        private static final long serialVersionUID = 1L;
        private float[] features;
        private float[] labels;

        /** For serializers (an RDD of examples collected to the driver). */
        private Example() {
        }

        Example(float[] features, float[] labels) {
            this.features = features;
            this.labels = labels;
        }

        public float[] getFeatures() {
            return features;
        }

        public float[] getLabels() {
            return labels;
        }
    }

    /**
     * The examples of a features frame (any frame with {@code features} and {@code label_onehot}), read from Spark's
     * internal rows: each array is copied into a {@code float[]}
     * at once ({@code ArrayData.toFloatArray}), with no boxing. A null array is refused, naming the column; features
     * and labels never hold null elements (preprocess writes them from decoded pixels).
     */
    public static org.apache.spark.api.java.JavaRDD<Example> exampleRdd(Dataset<Row> rows) {
        return rows.select(col(FEATURES), col(LABELS)).queryExecution().toRdd().toJavaRDD()
                .map(r -> new Example(floats(r, 0, FEATURES), floats(r, 1, LABELS)));
    }

    private static float[] floats(org.apache.spark.sql.catalyst.InternalRow row, int field, String column) {
        if (row.isNullAt(field)) {
            throw new IllegalArgumentException(column + " is null in a row of the features table");
        }
        return row.getArray(field).toFloatArray();
    }

    /**
     * Writes the mini-batches of a features frame (columns {@code id}, {@code features}, {@code label_onehot}) as
     * {@link BatchFile}s under {@code dir}, from executor tasks, and returns their paths, sorted. The examples are
     * shuffled by a hash of (id, {@code shuffleSeed}) and spread over {@code partitions} tasks, so the batches are the
     * same for the same seed (reproducible training, on a cluster too) and change with it. Each file holds
     * {@code batchSize} examples except the last one of each task. Training then reads paths ({@code fitPaths}), so the
     * examples go from storage to the workers and never through the driver.
     */
    public static List<String> export(Dataset<Row> rows, int batchSize, int partitions, long shuffleSeed, Path dir,
                                      Configuration hadoopConf) {
        SerializableConfiguration hadoop = new SerializableConfiguration(hadoopConf);
        String base = dir.toString();
        Dataset<Row> shuffled = rows.select(shuffleKey(shuffleSeed).as("shuffle_key"), col(FEATURES), col(LABELS))
                .repartition(partitions, col("shuffle_key"))
                .sortWithinPartitions("shuffle_key");
        List<String> paths = new ArrayList<>(exampleRdd(shuffled).mapPartitions(it ->
                write(batches(it, batchSize), batchSize, new Path(base), hadoop.value())).collect());
        Collections.sort(paths);
        return paths;
    }

    /** The seeded order of examples in the mini-batch files: a hash of (id, seed). */
    public static Column shuffleKey(long seed) {
        return xxhash64(col("id"), lit(seed));
    }

    /** The name's end of a batch file holding fewer examples than the batch size. */
    static final String PARTIAL = "-partial";

    /**
     * Whether {@code path} is a short batch file (a task's last one). DL4J's worker re-batches the files it is given
     * to the batch size ({@code IteratorDataSetIterator}): after a short file, every later file of that worker's round
     * is cut in two and each mini-batch is a merge of two pieces, new ND4J arrays each time (15 % of a CIFAR-10
     * worker's time). It also regroups those examples differently each epoch, which Fashion-MNIST's accuracy
     * measurably liked; so the preset decides ({@code model.short-batches}, {@link TrainJob#rounds}).
     */
    public static boolean isPartial(String path) {
        return path.endsWith(PARTIAL + ".bin");
    }

    private static Iterator<String> write(Iterator<DataSet> batches, int batchSize, Path dir, Configuration conf)
            throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        // Without Hadoop's native library, every file Hadoop's local file system creates costs a forked chmod
        // (4-8 ms; 939 MNIST batches took 7 s instead of 1.5): local files are written with java.nio instead.
        java.nio.file.Path local = fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem
                ? java.nio.file.Path.of(fs.makeQualified(dir).toUri()) : null;
        if (local != null) {
            Files.createDirectories(local);
        }
        int partition = TaskContext.getPartitionId();
        List<String> written = new ArrayList<>();
        for (int n = 0; batches.hasNext(); n++) {
            DataSet batch = batches.next();
            // A task's last batch is usually short: its name says so (see isPartial).
            String name = String.format("part-%05d-batch-%06d%s.bin", partition, n,
                    batch.numExamples() < batchSize ? PARTIAL : "");
            byte[] bytes = BatchFile.encode(batch);
            Path file = new Path(dir, name);
            if (local != null) {
                Files.write(local.resolve(name), bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } else {
                try (OutputStream out = fs.create(file, false)) {
                    out.write(bytes);
                }
            }
            written.add(fs.makeQualified(file).toString());
        }
        return written.iterator();
    }

    /** Groups examples into DataSets, in order; the last one may be smaller. */
    public static Iterator<DataSet> batches(Iterator<Example> examples, int batchSize) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return examples.hasNext();
            }

            @Override
            public DataSet next() {
                if (!examples.hasNext()) {
                    throw new NoSuchElementException();
                }
                Example first = examples.next();
                int nFeatures = first.features.length;
                int nLabels = first.labels.length;
                float[] features = new float[batchSize * nFeatures];
                float[] labels = new float[batchSize * nLabels];
                int n = 0;
                Example e = first;
                while (true) {
                    copy(e.features, features, n * nFeatures, nFeatures, "features");
                    copy(e.labels, labels, n * nLabels, nLabels, "label_onehot");
                    n++;
                    if (n == batchSize || !examples.hasNext()) {
                        break;
                    }
                    e = examples.next();
                }
                if (n < batchSize) {
                    features = Arrays.copyOf(features, n * nFeatures);
                    labels = Arrays.copyOf(labels, n * nLabels);
                }
                return new DataSet(FloatArrays.matrix(features, n, nFeatures), FloatArrays.matrix(labels, n, nLabels));
            }
        };
    }

    private static void copy(float[] values, float[] into, int offset, int expected, String column) {
        if (values.length != expected) {
            throw new IllegalArgumentException(column + " row has " + values.length + " values, expected " + expected);
        }
        System.arraycopy(values, 0, into, offset, expected);
    }
}
