package dev.imgtrain.ingest;

import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.datasets.DatasetSpec;
import dev.imgtrain.datasets.DecodeAhead;
import dev.imgtrain.datasets.DecodeTask;
import dev.imgtrain.datasets.Example;
import dev.imgtrain.datasets.ImageFolder;
import dev.imgtrain.datasets.SplitDecoder;
import dev.imgtrain.datasets.InvalidArchiveException;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.SparkFailures;
import dev.imgtrain.store.DiskSpace;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ingest: a dataset's archives → {@code datasets/<name>/raw/} (Parquet: id, split, label, image) and
 * {@code _dataset.json}. Each split (or, for image folders, each class folder) is decoded in its own executor task, streaming from the source file system,
 * and written by that task as one Parquet file ({@link RawParquetWriter}); the driver sees only file names, checksums
 * and counts. Either both outputs are committed or neither is.
 */
public final class IngestJob {
    private static final Logger LOG = LoggerFactory.getLogger(IngestJob.class);

    /** Raw table schema. {@code id} is the example's index in its split (archive order); (split, id) is unique. */
    public static final StructType RAW_SCHEMA = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("split", DataTypes.StringType, false)
            .add("label", DataTypes.IntegerType, false)
            .add("image", DataTypes.BinaryType, false);

    private IngestJob() {
    }

    /** Summary of one decoding task, sent back through an accumulator. */
    record TaskResult(String split, long[] labelCounts, List<DatasetManifest.SourceFile> files, List<String> classNames)
            implements java.io.Serializable {
    }

    /**
     * Ingests the dataset {@code dataset}: a built-in one (mnist, fashion-mnist, cifar10) from its archives, or, with
     * {@code format = "folder"}, any class-per-folder image set under {@code source} named {@code dataset}.
     */
    public static DatasetManifest run(SparkSession spark, String dataset, String format, String source,
                                      Warehouse warehouse) {
        if (!"folder".equals(format)) {
            return run(spark, DatasetSpec.named(dataset), source, warehouse);
        }
        Path sourceDir = Warehouse.qualify(source);
        try {
            FileSystem fs = existingSource(dataset, sourceDir, spark.sparkContext().hadoopConfiguration());
            return run(spark, ImageFolder.describe(dataset, fs, sourceDir), source, warehouse);
        } catch (IOException e) {
            throw new UncheckedIOException(sourceDir + ": " + e.getMessage(), e);
        }
    }

    public static DatasetManifest run(SparkSession spark, DatasetSpec spec, String source, Warehouse warehouse) {
        Path sourceDir = Warehouse.qualify(source);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<DecodeTask> tasks = plan(spec, sourceDir, jsc);
        DiskSpace.require(warehouse, warehouse.rawDir(spec.name()), "the raw table of " + spec.name(),
                rawEstimate(spec, sourceDir, jsc));

        // A job group whose tasks are interrupted when it is cancelled: after one task fails, the others are stopped
        // (writeAndCommit) and, as after any failed stage, waited for before the scratch directory goes (Scratch.use).
        String group = "imgtrain-ingest-" + java.util.UUID.randomUUID();
        jsc.setJobGroup(group, "ingest " + spec.name() + ": decode and write " + tasks.size() + " tasks from "
                + sourceDir, true);
        // Broadcast once, as Spark's own file writer does, rather than serialised into every task's closure.
        Broadcast<SerializableConfiguration> hadoop = jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration()));
        String sourceUri = sourceDir.toString();
        try {
            return Scratch.use(warehouse, jsc.sc(), "ingest-" + spec.name(),
                    tmp -> writeAndCommit(jsc, group, spec, tasks, sourceUri, hadoop, tmp, warehouse));
        } catch (Exception e) {
            throw SparkFailures.rethrowCause(e);
        } finally {
            jsc.clearJobGroup();
            hadoop.destroy();
        }
    }

    /**
     * Bytes the raw table will take, from the source's size: measured, MNIST's 11.6 MB of IDX gzip make a 17 MB table
     * and CIFAR-10's 174 MB tar.gz a 178 MB one; an image folder's compressed images decode to about 3 times their size.
     */
    static long rawEstimate(DatasetSpec spec, Path sourceDir, JavaSparkContext jsc) {
        try {
            long source = sourceDir.getFileSystem(jsc.hadoopConfiguration()).getContentSummary(sourceDir).getLength();
            double factor = spec.format() instanceof dev.imgtrain.datasets.ImageFolder ? 3.0 : 1.5;
            return (long) (source * factor);
        } catch (java.io.IOException e) {
            return 0; // the plan already read the source; a size it cannot give is no reason to refuse
        }
    }

    /** What one task wrote: its file (null when it decoded nothing) and its per-split summaries. */
    record TaskOutput(String file, List<TaskResult> splits) implements java.io.Serializable {
    }

    /**
     * Each task decodes its part and writes it as one Parquet file under scratch; the driver then moves the files of
     * the task attempts that succeeded into {@code raw/}, commits it and, last, the manifest built from the tasks' results.
     */
    private static DatasetManifest writeAndCommit(JavaSparkContext jsc, String group, DatasetSpec spec, List<DecodeTask> tasks,
                                                  String sourceUri, Broadcast<SerializableConfiguration> hadoop, Path tmp,
                                                  Warehouse warehouse) {
        long start = System.nanoTime();
        String attempts = new Path(tmp, "attempts").toString();
        List<TaskOutput> outputs;
        try {
            outputs = jsc.parallelize(tasks, tasks.size())
                    .map(task -> decodeAndWrite(task, sourceUri, spec, hadoop.value().value(), attempts)).collect();
        } catch (RuntimeException e) {
            // The job fails as soon as one task does; stop the others (interrupted: see the job group), which
            // Scratch.use then waits for before it removes the directory they write into.
            jsc.cancelJobGroup(group);
            throw e;
        }
        long written = System.nanoTime();
        Path raw = new Path(tmp, "raw");
        try {
            FileSystem fs = warehouse.fs();
            fs.mkdirs(raw);
            for (int i = 0; i < outputs.size(); i++) {
                if (outputs.get(i).file() != null) {
                    Path from = new Path(outputs.get(i).file());
                    Path to = new Path(raw, String.format("part-%05d.snappy.parquet", i));
                    if (!fs.rename(from, to)) {
                        throw new IOException("rename " + from + " -> " + to + " failed");
                    }
                }
            }
            fs.create(new Path(raw, Warehouse.SUCCESS), true).close();
        } catch (IOException e) {
            throw new UncheckedIOException("ingest " + spec.name() + ": cannot gather the written files under " + raw
                    + ": " + e.getMessage(), e);
        }
        List<TaskResult> taskResults = new ArrayList<>();
        outputs.forEach(o -> taskResults.addAll(o.splits()));
        List<String> classes = spec.classes();
        for (TaskResult r : taskResults) {
            if (!r.classNames().isEmpty()) {
                classes = r.classNames();
            }
        }
        taskResults.sort(Comparator.comparingInt(r -> spec.splits().indexOf(r.split())));
        Map<String, Long> counts = new LinkedHashMap<>();
        Map<String, Map<String, Long>> classCounts = new LinkedHashMap<>();
        Map<String, DatasetManifest.SourceFile> files = new LinkedHashMap<>();
        for (String split : spec.splits()) {
            counts.put(split, 0L);
            Map<String, Long> perClass = new LinkedHashMap<>();
            classes.forEach(c -> perClass.put(c, 0L));
            classCounts.put(split, perClass);
        }
        for (TaskResult r : taskResults) {
            for (int label = 0; label < r.labelCounts().length; label++) {
                counts.merge(r.split(), r.labelCounts()[label], Long::sum);
                classCounts.get(r.split()).merge(classes.get(label), r.labelCounts()[label], Long::sum);
            }
            r.files().forEach(f -> files.putIfAbsent(f.file(), f));
        }
        DatasetManifest manifest = new DatasetManifest(spec.name(),
                List.of(spec.height(), spec.width(), spec.channels()), spec.pixelLayout(), classes, counts,
                classCounts, List.copyOf(files.values()), Instant.now().toString());
        warehouse.commitDirectory(new Path(tmp, "raw"), warehouse.rawDir(spec.name()));
        warehouse.writeJson(warehouse.manifest(spec.name()), manifest);
        LOG.info("ingest {}: committed {} to {} (decode + Parquet write {} s, gather and commit {} s)", spec.name(), counts,
                warehouse.datasetDir(spec.name()), String.format("%.2f", (written - start) / 1e9),
                String.format("%.2f", (System.nanoTime() - written) / 1e9));
        return manifest;
    }

    /**
     * Whether {@code who} (a run, a sweep) may skip ingest and preprocess because the warehouse's features of
     * {@code dataset} were made from the archives now at {@code source} ({@link #notUpToDate}); says which in one INFO
     * line.
     */
    public static boolean upToDate(SparkSession spark, String dataset, String format, String source, Warehouse warehouse,
                                   String who) {
        String stale = notUpToDate(spark, dataset, format, source, warehouse);
        if (stale == null) {
            LOG.info("{}: the warehouse's {} features were made from the archives at {} (same files, same SHA-256): "
                    + "ingest and preprocess skipped", who, dataset, source);
        } else {
            LOG.info("{}: ingest and preprocess {}: {}", who, dataset, stale);
        }
        return stale == null;
    }

    /**
     * Whether the warehouse's features of {@code dataset} were made from exactly the archives now at {@code source}:
     * the manifest's every source file is there with the same size and SHA-256, and the features table was committed
     * after the manifest. Null when so; otherwise why not (for the log). Image folders are never taken as up to date
     * (a folder's images may be added or removed, and reading them all is what ingest does anyway).
     */
    public static String notUpToDate(SparkSession spark, String dataset, String format, String source,
                                     Warehouse warehouse) {
        if ("folder".equals(format)) {
            return "an image folder is ingested every time";
        }
        Path manifestFile = warehouse.manifest(dataset);
        Path features = warehouse.featuresDir(dataset);
        try {
            FileSystem store = warehouse.fs();
            if (!store.exists(manifestFile) || !warehouse.committed(features)) {
                return "not ingested and preprocessed in this warehouse yet";
            }
            if (store.getFileStatus(new Path(features, Warehouse.SUCCESS)).getModificationTime()
                    < store.getFileStatus(manifestFile).getModificationTime()) {
                return "the features are older than the last ingest";
            }
            DatasetManifest manifest = warehouse.readJson(manifestFile, DatasetManifest.class);
            Path sourceDir = Warehouse.qualify(source);
            FileSystem fs = sourceDir.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (manifest.sources() == null || manifest.sources().isEmpty()) {
                return "the manifest names no source files";
            }
            for (DatasetManifest.SourceFile s : manifest.sources()) {
                Path file = new Path(sourceDir, s.file());
                if (!fs.exists(file) || fs.getFileStatus(file).getLen() != s.bytes()) {
                    return file + " is not the file ingested last";
                }
                java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
                try (java.io.InputStream in = fs.open(file)) {
                    byte[] buffer = new byte[1 << 16];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        digest.update(buffer, 0, n);
                    }
                }
                if (!java.util.HexFormat.of().formatHex(digest.digest()).equals(s.sha256())) {
                    return file + " changed since it was ingested (its SHA-256 differs)";
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return "cannot tell (" + e.getMessage() + ")";
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<DecodeTask> plan(DatasetSpec spec, Path sourceDir, JavaSparkContext jsc) {
        try {
            FileSystem fs = existingSource(spec.name(), sourceDir, jsc.hadoopConfiguration());
            return spec.format().plan(spec, fs, sourceDir);
        } catch (IOException e) {
            throw new UncheckedIOException(sourceDir + ": " + e.getMessage(), e);
        }
    }

    /** The source's file system, after checking the source exists; the error says how to point at one. */
    private static FileSystem existingSource(String dataset, Path sourceDir, org.apache.hadoop.conf.Configuration hadoop)
            throws IOException {
        FileSystem fs = sourceDir.getFileSystem(hadoop);
        if (!fs.exists(sourceDir)) {
            throw new InvalidArchiveException(sourceDir.toString(), "no such file or directory (the " + dataset
                    + " archives are expected there); pass --source DIR_OR_URI"
                    + ("mnist".equals(dataset) ? ", or fetch MNIST with deploy/local/fetch-mnist.sh " + sourceDir.toUri().getPath() : ""));
        }
        return fs;
    }

    /** One task: decodes its part of the archive and writes it as one Parquet file under {@code attemptsDir}. */
    private static TaskOutput decodeAndWrite(DecodeTask task, String sourceUri, DatasetSpec spec,
                                             org.apache.hadoop.conf.Configuration hadoop, String attemptsDir)
            throws IOException {
        Path source = new Path(sourceUri);
        TaskContext context = TaskContext.get();
        // One file per task attempt: a failed attempt's file is never gathered, and goes with the scratch directory.
        Path file = new Path(attemptsDir, String.format("part-%05d-%d.snappy.parquet",
                context == null ? 0 : context.partitionId(), context == null ? 0 : context.taskAttemptId()));
        // Label counts per split: a task reads one split, or (CIFAR-10) both in one pass, each example naming its own.
        Map<String, long[]> labelCounts = new LinkedHashMap<>();
        boolean everySplit = !spec.splits().contains(task.split());
        for (String split : spec.splits()) {
            if (everySplit || split.equals(task.split())) {
                labelCounts.put(split, new long[spec.classes().size()]);
            }
        }
        Map<String, org.apache.parquet.io.api.Binary> splitNames = new LinkedHashMap<>();
        LOG.info("ingest {}: decoding {} from {}", spec.name(), task.key(), source);
        RawParquetWriter writer = null;
        boolean done = false;
        // Decoding runs a bounded queue ahead of the Parquet writer, on its own thread (DecodeAhead).
        try (SplitDecoder decoder = DecodeAhead.start(
                spec.format().open(spec, task, source.getFileSystem(hadoop), source), spec.name() + "-" + task.key())) {
            for (Example e; (e = decoder.next()) != null; ) {
                String split = e.split() != null ? e.split() : task.split();
                labelCounts.get(split)[e.label()]++;
                if (writer == null) {
                    writer = new RawParquetWriter(file, hadoop);
                }
                writer.write(e, splitNames.computeIfAbsent(split, org.apache.parquet.io.api.Binary::fromString));
            }
            if (writer != null) {
                writer.close();
                if (Scratch.abandoned(new Path(attemptsDir).getParent(), file.getFileSystem(hadoop))) {
                    throw new IllegalStateException("ingest " + spec.name() + ": " + task.key()
                            + " finished after the job had failed; its output was discarded");
                }
            }
            List<TaskResult> results = new ArrayList<>();
            labelCounts.forEach((split, counts) -> results.add(
                    new TaskResult(split, counts, decoder.sources(), decoder.classNames())));
            done = true;
            return new TaskOutput(writer == null ? null : file.toString(), results);
        } finally {
            if (!done && writer != null) {
                try {
                    writer.close();
                } catch (IOException | RuntimeException suppressed) {
                    // the decoding error is the one to report
                }
                FileSystem fs = file.getFileSystem(hadoop);
                fs.delete(file, false);
                // The driver may have removed the scratch directory between this task's creating its file and its
                // checksum file (Spark fails the job on another task's error without waiting for this one): then
                // the checksum file and the directories it re-created are this task's to remove.
                Scratch.abandoned(new Path(attemptsDir).getParent(), fs);
            }
        }
    }
}
