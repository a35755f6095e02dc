package dev.imgtrain.train;

import dev.imgtrain.model.BroadcastNetwork;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.ConfusionMatrix;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Distributed evaluation: the network's configuration and parameters are broadcast, each executor evaluates its
 * partitions with DL4J's {@link Evaluation} and sums the loss, and the driver merges one small partial per partition.
 * Used for per-epoch validation and for the final evaluation; it avoids {@code SparkDl4jMultiLayer.evaluate}, which
 * fails with dl4j-spark M2 over ND4J M2.1 (the CUDA build), so both builds run this same code.
 */
public final class DistributedEvaluator {
    private DistributedEvaluator() {
    }

    /** One partition's evaluation and loss sum. */
    record Partial(Evaluation evaluation, double lossSum, long examples) implements Serializable {
    }

    public static EvaluationResult evaluate(Dataset<Row> rows, MultiLayerNetwork network, List<String> classes,
                                            int batchSize) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext());
        BroadcastNetwork shipped = BroadcastNetwork.of(jsc, network);
        int numClasses = classes.size();
        try {
            List<Partial> partials = MiniBatches.exampleRdd(rows)
                    .mapPartitions(it -> evaluatePartition(it, shipped, numClasses, batchSize))
                    .collect();
            Evaluation total = new Evaluation(numClasses);
            double loss = 0;
            long examples = 0;
            for (Partial p : partials) {
                if (p.examples() > 0) {
                    total.merge(p.evaluation());
                    loss += p.lossSum();
                    examples += p.examples();
                }
            }
            if (examples == 0) {
                throw new IllegalStateException("nothing to evaluate: the split holds no examples");
            }
            return result(total, loss / examples, examples, classes);
        } finally {
            shipped.destroy();
        }
    }

    private static Iterator<Partial> evaluatePartition(Iterator<MiniBatches.Example> rows, BroadcastNetwork shipped,
                                                       int numClasses, int batchSize) {
        Evaluation evaluation = new Evaluation(numClasses);
        if (!rows.hasNext()) {
            return List.of(new Partial(evaluation, 0, 0)).iterator();
        }
        MultiLayerNetwork net = shipped.network();
        double lossSum = 0;
        long n = 0;
        Iterator<DataSet> batches = MiniBatches.batches(rows, batchSize);
        while (batches.hasNext()) {
            DataSet batch = batches.next();
            INDArray output = net.output(batch.getFeatures(), false);
            evaluation.eval(batch.getLabels(), output);
            lossSum += net.score(batch, false) * batch.numExamples();
            n += batch.numExamples();
        }
        return List.of(new Partial(evaluation, lossSum, n)).iterator();
    }

    static EvaluationResult result(Evaluation e, double loss, long examples, List<String> classes) {
        ConfusionMatrix<Integer> cm = e.getConfusion();
        List<List<Integer>> matrix = new ArrayList<>();
        List<EvaluationResult.PerClass> perClass = new ArrayList<>();
        for (int actual = 0; actual < classes.size(); actual++) {
            List<Integer> row = new ArrayList<>();
            for (int predicted = 0; predicted < classes.size(); predicted++) {
                row.add(cm.getCount(actual, predicted));
            }
            matrix.add(row);
            perClass.add(new EvaluationResult.PerClass(classes.get(actual), e.precision(actual), e.recall(actual),
                    e.f1(actual), cm.getActualTotal(actual)));
        }
        return new EvaluationResult(null, null, examples, e.accuracy(), loss, classes, matrix, perClass);
    }
}
