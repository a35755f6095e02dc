package dev.imgtrain.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The one place where feature rows become ND4J mini-batches: rows with {@code features} and {@code label_onehot}
 * (array&lt;float&gt;) → {@link DataSet}s of up to {@code batchSize} examples, built on the executors, one partition at
 * a time, so no example passes through the driver.
 */
public final class MiniBatches {
    public static final String FEATURES = "features";
    public static final String LABELS = "label_onehot";

    private MiniBatches() {
    }

    /** Mini-batches of a features frame, spread over {@code partitions} partitions. */
    public static JavaRDD<DataSet> rdd(Dataset<Row> rows, int batchSize, int partitions) {
        return rows.select(FEATURES, LABELS).repartition(partitions).javaRDD()
                .mapPartitions(it -> {
                    TrainingStats.useSystemClockUnlessSet(); // this executor will train: see TrainingStats
                    return batches(it, batchSize);
                });
    }

    /** Groups rows of (features, label_onehot) into DataSets, in order; the last one may be smaller. */
    public static Iterator<DataSet> batches(Iterator<Row> rows, int batchSize) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public DataSet next() {
                if (!rows.hasNext()) {
                    throw new NoSuchElementException();
                }
                Row first = rows.next();
                int nFeatures = first.getList(0).size();
                int nLabels = first.getList(1).size();
                float[] features = new float[batchSize * nFeatures];
                float[] labels = new float[batchSize * nLabels];
                int n = 0;
                Row row = first;
                while (true) {
                    copy(row.getList(0), features, n * nFeatures, nFeatures);
                    copy(row.getList(1), labels, n * nLabels, nLabels);
                    n++;
                    if (n == batchSize || !rows.hasNext()) {
                        break;
                    }
                    row = rows.next();
                }
                if (n < batchSize) {
                    features = java.util.Arrays.copyOf(features, n * nFeatures);
                    labels = java.util.Arrays.copyOf(labels, n * nLabels);
                }
                return new DataSet(Nd4j.create(features, new long[]{n, nFeatures}, 'c'),
                        Nd4j.create(labels, new long[]{n, nLabels}, 'c'));
            }
        };
    }

    private static void copy(List<Object> values, float[] into, int offset, int expected) {
        if (values.size() != expected) {
            throw new IllegalArgumentException("feature row has " + values.size() + " values, expected " + expected);
        }
        for (int i = 0; i < expected; i++) {
            into[offset + i] = ((Number) values.get(i)).floatValue();
        }
    }
}
