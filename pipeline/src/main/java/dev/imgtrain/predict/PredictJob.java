package dev.imgtrain.predict;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.datasets.DatasetSpec;
import dev.imgtrain.datasets.ImageFolder;
import dev.imgtrain.datasets.InvalidArchiveException;
import dev.imgtrain.ingest.IngestJob;
import dev.imgtrain.model.BroadcastNetwork;
import dev.imgtrain.preprocess.DatasetReader;
import dev.imgtrain.registry.ModelRegistry;
import dev.imgtrain.store.ModelStore;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.SerializableConfiguration;
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

import static org.apache.spark.sql.functions.col;

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
    static final List<String> IMAGE_SUFFIXES = List.of(".png", ".jpg", ".jpeg");

    private PredictJob() {
    }

    /** One input image, or a file that could not be one ({@code bad} set, {@code image} null). */
    record Item(Long id, String path, Integer label, byte[] image, String bad) implements Serializable {
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
            return fs.getFileStatus(path).isFile() && isImageName(path.getName());
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
        Item item = decode(path.toString(), content, m.manifest().shape(), null);
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
            JavaRDD<Item> items = items(spark, warehouse, dataset, m, source, split, scratch.path());
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

    /** The input as items: archives through ingest (into scratch), a raw table as it is, or a folder's files. */
    private static JavaRDD<Item> items(SparkSession spark, Warehouse warehouse, String dataset, Model m, Path source,
                                       String split, Path scratch) {
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        FileSystem fs;
        FileStatus status;
        try {
            fs = source.getFileSystem(hadoop);
            status = fs.getFileStatus(source);
        } catch (java.io.FileNotFoundException e) {
            throw new InvalidArchiveException(source.toString(), "no such file or directory");
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": " + e.getMessage(), e);
        }
        Dataset<Row> raw = null;
        if (status.isDirectory() && (exists(fs, new Path(source, Warehouse.SUCCESS)) || hasParquet(fs, source))) {
            raw = spark.read().parquet(source.toString());
        } else if (isArchive(fs, source, dataset)) {
            Warehouse scratchWarehouse = new Warehouse(scratch.toString(), hadoop);
            IngestJob.run(spark, DatasetSpec.named(dataset), source.toString(), scratchWarehouse);
            raw = spark.read().parquet(scratchWarehouse.rawDir(dataset).toString());
        }
        if (raw != null) {
            if (!split.equals("all")) {
                raw = raw.where(col("split").equalTo(split));
            }
            List<Integer> shape = m.manifest().shape();
            int size = m.manifest().features();
            return raw.select("id", "label", "image").javaRDD().map(r -> {
                byte[] image = (byte[]) r.get(2);
                String bad = image.length == size ? null : "image of " + image.length + " bytes, expected " + shape;
                return new Item(r.getLong(0), null, r.getInt(1), bad == null ? image : null, bad);
            });
        }
        List<String> files = folderFiles(fs, source);
        if (files.isEmpty()) {
            throw new InvalidArchiveException(source.toString(), "no files to score (expected PNG/JPEG images, the "
                    + dataset + " archives or a raw Parquet table)");
        }
        SerializableConfiguration conf = new SerializableConfiguration(hadoop);
        List<Integer> shape = m.manifest().shape();
        List<String> classes = m.manifest().classes();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = Math.max(1, Math.min(files.size() / 64 + 1, 4 * jsc.defaultParallelism()));
        return jsc.parallelize(files, partitions).map(file -> {
            Path path = new Path(file);
            byte[] content;
            try (InputStream in = path.getFileSystem(conf.value()).open(path)) {
                content = in.readAllBytes();
            }
            int label = classes.indexOf(path.getParent().getName());
            return decode(file, content, shape, label < 0 ? null : label);
        });
    }

    /** An image file as an item, or as a bad one with the reason (not an image, wrong size or channels). */
    static Item decode(String file, byte[] content, List<Integer> shape, Integer label) {
        if (!isImageName(file)) {
            return new Item(null, file, label, null, "not a PNG or JPEG file name");
        }
        ImageFolder.Decoded d;
        try {
            d = ImageFolder.decode(file, content);
        } catch (InvalidArchiveException e) {
            return new Item(null, file, label, null, e.getMessage().startsWith(file + ": ")
                    ? e.getMessage().substring(file.length() + 2) : e.getMessage());
        } catch (RuntimeException e) {
            return new Item(null, file, label, null, "not a readable PNG or JPEG image (" + e + ")");
        }
        if (d.height() != shape.get(0) || d.width() != shape.get(1) || d.channels() != shape.get(2)) {
            return new Item(null, file, label, null, d.height() + "x" + d.width() + "x" + d.channels()
                    + " image, the model takes " + shape.get(0) + "x" + shape.get(1) + "x" + shape.get(2));
        }
        return new Item(null, file, label, d.pixels(), null);
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

    static boolean isImageName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return IMAGE_SUFFIXES.stream().anyMatch(lower::endsWith);
    }

    private static boolean isArchive(FileSystem fs, Path source, String dataset) {
        if (DatasetSpec.KNOWN.stream().noneMatch(d -> d.name().equals(dataset))) {
            return false;
        }
        try {
            if (fs.getFileStatus(source).isFile()) {
                return source.getName().endsWith(".tar.gz");
            }
            for (FileStatus s : fs.listStatus(source)) {
                if (s.getPath().getName().matches(".*-ubyte\\.gz|.*\\.tar\\.gz")) {
                    return true; // the IDX or CIFAR-10 archives ingest reads
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": " + e.getMessage(), e);
        }
    }

    private static boolean hasParquet(FileSystem fs, Path dir) {
        try {
            for (FileStatus s : fs.listStatus(dir)) {
                if (s.getPath().getName().endsWith(".parquet")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean exists(FileSystem fs, Path path) {
        try {
            return fs.exists(path);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }

    /** Every regular file under {@code dir} (recursively), sorted; hidden files and Spark markers left out. */
    private static List<String> folderFiles(FileSystem fs, Path dir) {
        List<String> files = new ArrayList<>();
        try {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
            while (it.hasNext()) {
                LocatedFileStatus s = it.next();
                String name = s.getPath().getName();
                if (!name.startsWith(".") && !name.startsWith("_")) {
                    files.add(s.getPath().toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
        files.sort(String::compareTo);
        return files;
    }
}
