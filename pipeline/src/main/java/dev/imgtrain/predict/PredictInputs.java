package dev.imgtrain.predict;

import dev.imgtrain.datasets.DatasetSpec;
import dev.imgtrain.datasets.ImageFolder;
import dev.imgtrain.datasets.InvalidArchiveException;
import dev.imgtrain.ingest.IngestJob;
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
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;

/** What predict scores, as items: a dataset's archives (ingested into scratch), a raw Parquet table, or image files. */
final class PredictInputs {
    static final List<String> IMAGE_SUFFIXES = List.of(".png", ".jpg", ".jpeg");

    private PredictInputs() {
    }

    /** One input image, or a file that could not be one ({@code bad} set, {@code image} null). */
    record Item(Long id, String path, Integer label, byte[] image, String bad) implements Serializable {
    }

    /** The input as items: archives through ingest (into scratch), a raw table as it is, or a folder's files. */
    static JavaRDD<Item> items(SparkSession spark, Warehouse warehouse, String dataset, PredictJob.Model m, Path source,
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
            d = ImageFolder.decode(file, content, shape.get(0), shape.get(1), "the model's input images");
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
