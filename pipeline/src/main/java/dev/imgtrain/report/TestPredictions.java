package dev.imgtrain.report;

import dev.imgtrain.model.BroadcastNetwork;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The few test predictions a report shows, from one distributed pass over the test split's features: the first
 * {@code first} examples by id, and the {@code mistakes} wrong predictions the model was most confident of. Each
 * partition keeps at most that many of each; the driver merges the partials.
 */
final class TestPredictions {
    private TestPredictions() {
    }

    /** One scored example: its true and predicted class, and the probability the model gave its prediction. */
    record Prediction(long id, int label, int predicted, double confidence) implements Serializable {
        boolean wrong() {
            return label != predicted;
        }
    }

    /** What the report shows: the first examples by id, and the most confident mistakes, most confident first. */
    record Picked(List<Prediction> first, List<Prediction> mistakes) implements Serializable {
    }

    private static final Comparator<Prediction> BY_ID = Comparator.comparingLong(Prediction::id);
    private static final Comparator<Prediction> BY_CONFIDENCE =
            Comparator.comparingDouble(Prediction::confidence).reversed().thenComparing(BY_ID);

    /** @param rows the test split of a features table: columns {@code id}, {@code label}, {@code features} */
    static Picked pick(Dataset<Row> rows, MultiLayerNetwork network, int first, int mistakes, int batchSize) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext());
        BroadcastNetwork shipped = BroadcastNetwork.of(jsc, network);
        try {
            List<Picked> partials = rows.select("id", "label", "features").javaRDD()
                    .mapPartitions(it -> List.of(pickPartition(it, shipped, first, mistakes, batchSize)).iterator())
                    .collect();
            List<Prediction> allFirst = new ArrayList<>();
            List<Prediction> allMistakes = new ArrayList<>();
            for (Picked p : partials) {
                allFirst.addAll(p.first());
                allMistakes.addAll(p.mistakes());
            }
            return new Picked(smallest(allFirst, BY_ID, first), smallest(allMistakes, BY_CONFIDENCE, mistakes));
        } finally {
            shipped.destroy();
        }
    }

    private static Picked pickPartition(Iterator<Row> rows, BroadcastNetwork shipped, int first, int mistakes,
                                        int batchSize) {
        PriorityQueue<Prediction> firstKept = new PriorityQueue<>(BY_ID.reversed());
        PriorityQueue<Prediction> mistakesKept = new PriorityQueue<>(BY_CONFIDENCE.reversed());
        MultiLayerNetwork net = rows.hasNext() ? shipped.network() : null;
        List<Row> batch = new ArrayList<>(batchSize);
        while (rows.hasNext()) {
            batch.add(rows.next());
            if (batch.size() == batchSize || !rows.hasNext()) {
                for (Prediction p : score(net, batch)) {
                    keep(firstKept, p, first);
                    if (p.wrong()) {
                        keep(mistakesKept, p, mistakes);
                    }
                }
                batch.clear();
            }
        }
        return new Picked(new ArrayList<>(firstKept), new ArrayList<>(mistakesKept));
    }

    private static List<Prediction> score(MultiLayerNetwork net, List<Row> batch) {
        int width = batch.get(0).<Float>getList(2).size();
        float[] features = new float[batch.size() * width];
        for (int r = 0; r < batch.size(); r++) {
            List<Float> values = batch.get(r).getList(2);
            for (int i = 0; i < width; i++) {
                features[r * width + i] = values.get(i);
            }
        }
        INDArray out = net.output(Nd4j.create(features, new long[]{batch.size(), width}, 'c'), false);
        INDArray predicted = out.argMax(1);
        List<Prediction> scored = new ArrayList<>(batch.size());
        for (int r = 0; r < batch.size(); r++) {
            int p = predicted.getInt(r);
            scored.add(new Prediction(batch.get(r).getLong(0), batch.get(r).getInt(1), p, out.getDouble(r, p)));
        }
        return scored;
    }

    /** Keeps the {@code limit} smallest by the queue's reversed order (its head is the largest kept). */
    private static void keep(PriorityQueue<Prediction> kept, Prediction p, int limit) {
        kept.add(p);
        if (kept.size() > limit) {
            kept.poll();
        }
    }

    private static List<Prediction> smallest(List<Prediction> all, Comparator<Prediction> order, int limit) {
        return all.stream().sorted(order).limit(limit).toList();
    }
}
