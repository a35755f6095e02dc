package dev.imgtrain.preprocess;

import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.DiskSpace;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.udf;

/**
 * Preprocess: {@code raw/} → {@code features/} (Parquet: id, split, label, features array&lt;float&gt; scaled to
 * [0, 1] in the raw bytes' order, label_onehot array&lt;float&gt;). Pure Spark transforms, run on the executors;
 * the shape and class count come from {@code _dataset.json}.
 */
public final class PreprocessJob {
    private static final Logger LOG = LoggerFactory.getLogger(PreprocessJob.class);

    private PreprocessJob() {
    }

    /** Scales unsigned bytes to [0, 1] floats, keeping their order (the flattening documented in the manifest). */
    static final UDF1<byte[], float[]> SCALE = bytes -> {
        float[] out = new float[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = (bytes[i] & 0xFF) / 255f;
        }
        return out;
    };

    public static long run(SparkSession spark, String dataset, Warehouse warehouse, int partitions) {
        DatasetManifest manifest = DatasetReader.manifest(warehouse, dataset);
        // The features table is about the size of the raw one (MNIST 16 MB against 17, CIFAR-10 178 against 178).
        DiskSpace.require(warehouse, warehouse.featuresDir(dataset), "the features table of " + dataset,
                (long) (size(warehouse, warehouse.rawDir(dataset)) * 1.1));
        spark.sparkContext().setJobDescription("preprocess " + dataset + ": scale and one-hot "
                + manifest.counts() + " examples");
        try {
            return Scratch.use(warehouse, spark.sparkContext(), "preprocess-" + dataset, tmp -> {
                Dataset<Row> features = transform(spark.read().parquet(warehouse.rawDir(dataset).toString()),
                        manifest.features(), manifest.numClasses());
                features.repartition(partitions).write().parquet(new Path(tmp, "features").toString());
                warehouse.commitDirectory(new Path(tmp, "features"), warehouse.featuresDir(dataset));
                writeSamples(spark, dataset, manifest, warehouse);
                long total = manifest.counts().values().stream().mapToLong(Long::longValue).sum();
                LOG.info("preprocess {}: committed {} examples ({} features, {} classes) to {}", dataset, total,
                        manifest.features(), manifest.numClasses(), warehouse.featuresDir(dataset));
                return total;
            });
        } finally {
            spark.sparkContext().setJobDescription(null);
        }
    }

    private static long size(Warehouse warehouse, org.apache.hadoop.fs.Path dir) {
        try {
            return warehouse.fs().getContentSummary(dir).getLength();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    /** Examples per split in {@code samples.json}. */
    static final int SAMPLES = 64;

    /**
     * {@code datasets/<ds>/samples.json}: the first {@link #SAMPLES} examples of each split by id (label, class name,
     * raw bytes in base64) with the shape and class names, for tools without a Parquet reader (the notebooks).
     */
    static void writeSamples(SparkSession spark, String dataset, DatasetManifest manifest, Warehouse warehouse) {
        List<Map<String, Object>> samples = new ArrayList<>();
        Dataset<Row> raw = spark.read().parquet(warehouse.rawDir(dataset).toString());
        for (String split : manifest.counts().keySet()) {
            for (Row r : raw.where(col("split").equalTo(split)).orderBy("id").limit(SAMPLES)
                    .select("id", "label", "image").collectAsList()) {
                Map<String, Object> sample = new LinkedHashMap<>();
                sample.put("id", r.getLong(0));
                sample.put("split", split);
                sample.put("label", r.getInt(1));
                sample.put("class", manifest.classes().get(r.getInt(1)));
                sample.put("image_base64", Base64.getEncoder().encodeToString((byte[]) r.get(2)));
                samples.add(sample);
            }
        }
        Map<String, Object> file = new LinkedHashMap<>();
        file.put("dataset", dataset);
        file.put("shape", manifest.shape());
        file.put("pixel_layout", manifest.pixelLayout());
        file.put("classes", manifest.classes());
        file.put("samples", samples);
        warehouse.writeJson(new Path(warehouse.datasetDir(dataset), "samples.json"), file);
    }

    /** The transform itself, on any raw-shaped frame; checks every image has the manifest's size. */
    public static Dataset<Row> transform(Dataset<Row> raw, int featureCount, int classes) {
        UserDefinedFunction scale = udf(SCALE, DataTypes.createArrayType(DataTypes.FloatType, false));
        Column checked = expr("case when length(image) = " + featureCount + " then image else raise_error("
                + "concat('raw image id ', id, ' (', split, ') has ', length(image), ' bytes, expected "
                + featureCount + "')) end");
        Column onehot = expr("transform(sequence(0, " + (classes - 1) + "), c -> cast(if(c = label, 1.0, 0.0) as float))");
        return raw.select(col("id"), col("split"), col("label"),
                scale.apply(checked).as("features"), onehot.as("label_onehot"));
    }
}
