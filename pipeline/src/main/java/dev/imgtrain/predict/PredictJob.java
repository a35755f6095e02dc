package dev.imgtrain.predict;

import dev.imgtrain.predict.PredictInputs.Item;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.datasets.InvalidArchiveException;
import dev.imgtrain.model.BroadcastNetwork;
import dev.imgtrain.preprocess.DatasetReader;
import dev.imgtrain.registry.ModelRegistry;
import dev.imgtrain.model.ModelStore;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;


/**
 * Predict: scores images with a model (the dataset's current one, or a run's) on the executors and writes
 * {@code <output>/predictions/} (Parquet: id or path, label when known, predicted class and name, its probability,
 * all probabilities) and {@code <output>/summary.json} (count, bad, accuracy when the input has labels), committed
 * together. The input is the dataset's own archives (decoded by ingest into scratch), a raw Parquet table (id, label,
 * image), or a folder of PNG/JPEG files of the model's image size (a parent folder named like a class is its label).
 * The model is loaded once per partition from a broadcast, not per image.
 */
public final class PredictJob {
    private static final Logger LOG = LoggerFactory.getLogger(PredictJob.class);

    private PredictJob() {
    }

    public record BadImage(String path, String reason) implements Serializable {
    }

    public record PredictResult(String model, String output, long count, long bad, Double accuracy, List<BadImage> badImages) {
    }

    /** The top classes of one image, most likely first. */
    public record Top(String className, int index, double probability) {
    }

    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.LongType, true)
            .add("path", DataTypes.StringType, true)
            .add("label", DataTypes.IntegerType, true)
            .add("predicted", DataTypes.IntegerType, false)
            .add("predicted_class", DataTypes.StringType, false)
            .add("probability", DataTypes.FloatType, false)
            .add("probabilities", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    /** A model to score with: its name (run id), where its model.zip is, and the dataset's manifest. */
    record Model(String runId, Path zip, DatasetManifest manifest) {
    }

    static Model resolve(Warehouse warehouse, String dataset, String model) {
        DatasetManifest manifest = DatasetReader.manifest(warehouse, dataset);
        if (model.equals("current")) {
            ModelRegistry.Current current = new ModelRegistry(warehouse).current(dataset);
            if (current == null) {
                throw new IllegalStateException("dataset '" + dataset + "' has no current model in " + warehouse.root()
                        + ": promote a run first (`imgtrain promote --dataset " + dataset + " --run RUN_ID`)");
            }
            return new Model(current.runId(), new Path(current.model()), manifest);
        }
        Path runDir = warehouse.runDir(model);
        if (!warehouse.committed(runDir)) {
            throw new IllegalStateException("--model " + model + ": not 'current' and not a committed run in "
                    + warehouse.runsDir());
        }
        String runDataset = warehouse.readJson(new Path(runDir, "params.json"), JsonNode.class).path("dataset").asText();
        if (!runDataset.equals(dataset)) {
            throw new IllegalStateException("--model " + model + " was trained on " + runDataset + ", not " + dataset);
        }
        return new Model(model, new Path(runDir, "model.zip"), manifest);
    }

    /** Whether {@code input} is one image file (scored on the driver by {@link #single}, no Parquet). */
    public static boolean isSingleImage(String input, Configuration hadoop) {
        try {
            Path path = Warehouse.qualify(input);
            FileSystem fs = path.getFileSystem(hadoop);
            return fs.getFileStatus(path).isFile() && PredictInputs.isImageName(path.getName());
        } catch (IOException e) {
            throw new UncheckedIOException(input + ": " + e.getMessage(), e);
        }
    }

    /** The {@code k} most likely classes of one image file. */
    public static List<Top> single(Warehouse warehouse, String dataset, String model, String input, int k) {
        Model m = resolve(warehouse, dataset, model);
        Path path = Warehouse.qualify(input);
        byte[] content;
        try (InputStream in = path.getFileSystem(warehouse.fs().getConf()).open(path)) {
            content = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(input + ": cannot read: " + e.getMessage(), e);
        }
        Item item = PredictInputs.decode(path.toString(), content, m.manifest().shape(), null);
        if (item.bad() != null) {
            throw new InvalidArchiveException(path.toString(), item.bad());
        }
        MultiLayerNetwork net = ModelStore.load(warehouse, m.zip());
        INDArray p = net.output(features(List.of(item), m.manifest().features()), false);
        List<Top> tops = new ArrayList<>();
        for (int c = 0; c < p.columns(); c++) {
            tops.add(new Top(m.manifest().classes().get(c), c, p.getDouble(0, c)));
        }
        tops.sort(Comparator.comparingDouble(Top::probability).reversed());
        return tops.subList(0, Math.min(k, tops.size()));
    }

    /**
     * Scores {@code input} into {@code output}. {@code split}: for archives and raw tables, the split to score
     * ({@code all} for every one). {@code skipBad}: score the good images and list the bad ones, instead of failing on
     * the first bad one with nothing written.
     */
    public static PredictResult run(SparkSession spark, Warehouse warehouse, String dataset, String model, String input,
                                    String output, String split, boolean skipBad, int batchSize) {
        Model m = resolve(warehouse, dataset, model);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Path source = Warehouse.qualify(input);
        Path target = Warehouse.qualify(output);
        Warehouse out = new Warehouse(target.getParent().toString(), jsc.hadoopConfiguration());
        if (out.exists(target)) {
            throw new IllegalStateException("--output " + target + " exists; predict writes a new directory (remove it or pick another)");
        }
        jsc.setJobDescription("predict " + dataset + " with " + m.runId() + ": " + source);
        try (Scratch.Dir scratch = Scratch.open(warehouse, "predict")) {
            JavaRDD<Item> items = PredictInputs.items(spark, warehouse, dataset, m, source, split, scratch.path());
            items.persist(StorageLevel.MEMORY_AND_DISK());
            List<BadImage> bad = items.filter(i -> i.bad() != null).map(i -> new BadImage(i.path(), i.bad())).collect();
            bad = new ArrayList<>(bad);
            bad.sort(Comparator.comparing(BadImage::path));
            if (!bad.isEmpty() && !skipBad) {
                throw new InvalidArchiveException(bad.get(0).path(), bad.get(0).reason()
                        + (bad.size() > 1 ? " (and " + (bad.size() - 1) + " more bad file(s); --on-bad-image skip scores the rest)" : ""));
            }
            BroadcastNetwork shipped = BroadcastNetwork.of(jsc, ModelStore.load(warehouse, m.zip()));
            List<String> classes = m.manifest().classes();
            int width = m.manifest().features();
            JavaRDD<Row> rows = items.filter(i -> i.bad() == null)
                    .mapPartitions(it -> score(it, shipped, classes, width, batchSize));
            Dataset<Row> predictions = spark.createDataFrame(rows, SCHEMA);
            Path staging = new Path(target.getParent(), "_" + target.getName() + ".tmp-" + UUID.randomUUID());
            try {
                predictions.write().parquet(new Path(staging, "predictions").toString());
                Row totals = spark.read().parquet(new Path(staging, "predictions").toString())
                        .selectExpr("count(*)", "count(label)", "sum(cast(label = predicted as int))").first();
                long count = totals.getLong(0);
                long labelled = totals.getLong(1);
                Double accuracy = labelled == 0 ? null : (double) totals.getLong(2) / labelled;
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("model", m.runId());
                summary.put("dataset", dataset);
                summary.put("input", source.toString());
                summary.put("split", split);
                summary.put("count", count);
                summary.put("bad", bad.size());
                summary.put("labelled", labelled);
                summary.put("accuracy", accuracy);
                summary.put("bad_images", bad.subList(0, Math.min(100, bad.size())));
                summary.put("created_at", Instant.now().toString());
                out.writeJson(new Path(staging, "summary.json"), summary);
                out.commitDirectory(staging, target);
                LOG.info("predict {}: {} images scored with {} ({} bad{}) into {}", dataset, count, m.runId(), bad.size(),
                        accuracy == null ? "" : String.format(Locale.ROOT, ", accuracy %.4f on %d labelled", accuracy, labelled), target);
                return new PredictResult(m.runId(), target.toString(), count, bad.size(), accuracy, bad);
            } finally {
                out.deleteQuietly(staging);
                shipped.destroy();
            }
        } finally {
            jsc.setJobDescription(null);
        }
    }

    private static Iterator<Row> score(Iterator<Item> items, BroadcastNetwork shipped, List<String> classes, int width,
                                       int batchSize) {
        List<Row> rows = new ArrayList<>();
        MultiLayerNetwork net = items.hasNext() ? shipped.network() : null;
        List<Item> batch = new ArrayList<>(batchSize);
        while (items.hasNext()) {
            batch.add(items.next());
            if (batch.size() == batchSize || !items.hasNext()) {
                INDArray p = net.output(features(batch, width), false);
                INDArray predicted = p.argMax(1);
                for (int r = 0; r < batch.size(); r++) {
                    Item item = batch.get(r);
                    int c = predicted.getInt(r);
                    rows.add(RowFactory.create(item.id(), item.path(), item.label(), c, classes.get(c),
                            p.getFloat(r, c), p.getRow(r).toFloatVector()));
                }
                batch.clear();
            }
        }
        return rows.iterator();
    }

    /** Scaled to [0, 1] in the raw bytes' order, as preprocess does. */
    static INDArray features(List<Item> items, int width) {
        float[] f = new float[items.size() * width];
        for (int r = 0; r < items.size(); r++) {
            byte[] image = items.get(r).image();
            for (int i = 0; i < width; i++) {
                f[r * width + i] = (image[i] & 0xFF) / 255f;
            }
        }
        return Nd4j.create(f, new long[]{items.size(), width}, 'c');
    }

}
