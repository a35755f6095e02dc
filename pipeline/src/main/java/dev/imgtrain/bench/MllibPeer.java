package dev.imgtrain.bench;

import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.apache.spark.ml.functions.array_to_vector;
import static org.apache.spark.sql.functions.col;

/**
 * The peer a Spark user would otherwise pick: Spark MLlib's {@link MultilayerPerceptronClassifier} with the same
 * layers, trained on the same features table, given a wall-time budget; its test accuracy is what the budget buys.
 * MLlib's BLAS is pointed at the OpenBLAS that ND4J ships ({@link #useNativeBlas}), not its Java fallback.
 */
public final class MllibPeer {
    private static final Logger LOG = LoggerFactory.getLogger(MllibPeer.class);
    static final String NATIVE_LIB_PROPERTY = "dev.ludovic.netlib.blas.nativeLibPath";

    private MllibPeer() {
    }

    /**
     * Points netlib (MLlib's BLAS) at the OpenBLAS library that ND4J's JavaCPP presets extracted, unless a path is
     * given already; must run before MLlib's first BLAS call in this JVM. Returns the BLAS implementation MLlib got.
     */
    public static String useNativeBlas() {
        if (System.getProperty(NATIVE_LIB_PROPERTY) == null) {
            // Loading the presets extracts JavaCPP's JNI wrapper and, beside it, OpenBLAS itself.
            String jni = org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas.class);
            File lib = jni == null ? null : new File(new File(jni).getParentFile(), "libopenblas.so.0");
            if (lib != null && lib.isFile()) {
                System.setProperty(NATIVE_LIB_PROPERTY, lib.getPath());
            }
        }
        String blas = dev.ludovic.netlib.blas.BLAS.getInstance().getClass().getName();
        LOG.info("MLlib BLAS: {} ({}={})", blas, NATIVE_LIB_PROPERTY, System.getProperty(NATIVE_LIB_PROPERTY));
        return blas;
    }

    /**
     * Trains MLlib's perceptron ({@code layers}, L-BFGS, block size {@code blockSize}) on {@code train} with 1, 2, 4, ...
     * iterations until a fit takes longer than {@code budgetSeconds} (or stops improving its iteration count), and
     * returns the test accuracy of the longest fit that stayed within the budget (the 1-iteration fit when none did),
     * with every fit's iterations and seconds.
     */
    public static Map<String, Object> accuracyWithin(Dataset<Row> train, Dataset<Row> test, int[] layers, int blockSize,
                                                     long seed, double budgetSeconds) {
        Dataset<Row> trainVectors = vectors(train).persist(StorageLevel.MEMORY_ONLY());
        Dataset<Row> testVectors = vectors(test).persist(StorageLevel.MEMORY_ONLY());
        trainVectors.count();
        testVectors.count();
        try {
            List<Map<String, Object>> fits = new ArrayList<>();
            Fit best = null;
            for (int iterations = 1; iterations <= 4096; iterations *= 2) {
                Fit fit = fit(trainVectors, layers, blockSize, seed, iterations);
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("max_iterations", iterations);
                f.put("seconds", fit.seconds);
                fits.add(f);
                if (fit.seconds > budgetSeconds && best != null) {
                    break;
                }
                best = fit;
                if (fit.seconds > budgetSeconds) {
                    break;
                }
            }
            double accuracy = new MulticlassClassificationEvaluator().setMetricName("accuracy")
                    .evaluate(best.model.transform(testVectors));
            LOG.info("MLlib perceptron: {} iterations in {} s (budget {} s): test accuracy {}", best.iterations,
                    String.format("%.1f", best.seconds), String.format("%.1f", budgetSeconds), String.format("%.4f", accuracy));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("budget_seconds", budgetSeconds);
            out.put("fits", fits);
            out.put("iterations", best.iterations);
            out.put("seconds", best.seconds);
            out.put("test_accuracy", accuracy);
            return out;
        } finally {
            trainVectors.unpersist();
            testVectors.unpersist();
        }
    }

    private record Fit(MultilayerPerceptronClassificationModel model, int iterations, double seconds) {
    }

    private static Fit fit(Dataset<Row> train, int[] layers, int blockSize, long seed, int iterations) {
        long start = System.nanoTime();
        MultilayerPerceptronClassificationModel model = new MultilayerPerceptronClassifier()
                .setLayers(layers).setBlockSize(blockSize).setSeed(seed).setMaxIter(iterations).setTol(0)
                .fit(train);
        return new Fit(model, iterations, (System.nanoTime() - start) / 1e9);
    }

    private static Dataset<Row> vectors(Dataset<Row> features) {
        return features.select(array_to_vector(col("features")).as("features"), col("label").cast("double").as("label"));
    }
}
