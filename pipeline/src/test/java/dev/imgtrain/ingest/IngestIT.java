package dev.imgtrain.ingest;

import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.datasets.DatasetSpec;
import dev.imgtrain.datasets.InvalidArchiveException;
import dev.imgtrain.preprocess.PreprocessJob;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.IdxFixtures;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ingest and preprocess on synthetic archives: what is written, and that a failure leaves committed output as it was. */
class IngestIT {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("ingest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static Warehouse warehouse(Path dir) {
        return new Warehouse(dir.toString(), spark.sparkContext().hadoopConfiguration());
    }

    @Test
    void writesRawTableManifestAndFeatures(@TempDir Path tmp) throws Exception {
        Path source = IdxFixtures.writeValidMnist(tmp.resolve("src"), 30, 12);
        Warehouse warehouse = warehouse(tmp.resolve("wh"));
        DatasetManifest manifest = IngestJob.run(spark, DatasetSpec.MNIST, source.toString(), warehouse);
        assertEquals(30L, manifest.counts().get("train"));
        assertEquals(12L, manifest.counts().get("test"));
        assertEquals(List.of(28, 28, 1), manifest.shape());
        assertEquals(4, manifest.sources().size());
        assertEquals(manifest, warehouse.readJson(warehouse.manifest("mnist"), DatasetManifest.class));

        // Written by each task with parquet-mr (RawParquetWriter), read back by Spark as the raw schema (Spark reads every
        // Parquet column as nullable, whoever wrote it).
        assertEquals(IngestJob.RAW_SCHEMA.asNullable(), spark.read().parquet(warehouse.rawDir("mnist").toString()).schema());
        assertTrue(warehouse.committed(warehouse.rawDir("mnist")), "raw/ has its _SUCCESS marker");
        assertEquals(List.of(0L, 29L, 0L, 11L), spark.read().parquet(warehouse.rawDir("mnist").toString())
                .groupBy("split").agg(org.apache.spark.sql.functions.min("id"), org.apache.spark.sql.functions.max("id"))
                .orderBy(col("split").desc()).collectAsList().stream()
                .flatMap(r -> java.util.stream.Stream.of(r.getLong(1), r.getLong(2))).toList());
        Row seventh = spark.read().parquet(warehouse.rawDir("mnist").toString())
                .where(col("split").equalTo("train").and(col("id").equalTo(7))).first();
        assertEquals(7, seventh.getInt(seventh.fieldIndex("label")));
        byte[] image = (byte[]) seventh.get(seventh.fieldIndex("image"));
        assertEquals((byte) (7 * 7 + 100), image[100]);

        PreprocessJob.run(spark, "mnist", warehouse, 2);
        Row f = spark.read().parquet(warehouse.featuresDir("mnist").toString())
                .where(col("split").equalTo("train").and(col("id").equalTo(7))).first();
        List<Float> features = f.getList(f.fieldIndex("features"));
        assertEquals(784, features.size());
        assertEquals((image[100] & 0xFF) / 255f, features.get(100));
        assertArrayEquals(new Object[]{0f, 0f, 0f, 0f, 0f, 0f, 0f, 1f, 0f, 0f},
                f.getList(f.fieldIndex("label_onehot")).toArray());
        assertEquals(42, spark.read().parquet(warehouse.featuresDir("mnist").toString()).count());
    }

    @Test
    void aSweepTakesTheWarehousesFeaturesOnlyWhenTheyComeFromTheVeryArchivesAtTheSource(@TempDir Path tmp)
            throws Exception {
        Path source = IdxFixtures.writeValidMnist(tmp.resolve("src"), 30, 12);
        String src = source.toString();
        Warehouse warehouse = warehouse(tmp.resolve("wh"));
        assertEquals("not ingested and preprocessed in this warehouse yet",
                IngestJob.notUpToDate(spark, "mnist", "", src, warehouse));
        IngestJob.run(spark, DatasetSpec.MNIST, src, warehouse);
        assertEquals("not ingested and preprocessed in this warehouse yet",
                IngestJob.notUpToDate(spark, "mnist", "", src, warehouse), "ingested, not preprocessed");
        PreprocessJob.run(spark, "mnist", warehouse, 1);
        assertEquals(null, IngestJob.notUpToDate(spark, "mnist", "", src, warehouse));
        assertEquals("an image folder is ingested every time", IngestJob.notUpToDate(spark, "mnist", "folder", src, warehouse));

        // One byte of one archive changed, its size the same: only the digest tells.
        Path labels = source.resolve(IdxFixtures.TRAIN_LABELS);
        byte[] original = Files.readAllBytes(labels);
        byte[] changed = original.clone();
        changed[changed.length - 5] ^= 1;
        Files.write(labels, changed);
        String why = IngestJob.notUpToDate(spark, "mnist", "", src, warehouse);
        assertTrue(why != null && why.endsWith(IdxFixtures.TRAIN_LABELS + " changed since it was ingested (its SHA-256 "
                + "differs)"), why);
        Files.delete(labels);
        assertTrue(IngestJob.notUpToDate(spark, "mnist", "", src, warehouse).endsWith(IdxFixtures.TRAIN_LABELS
                + " is not the file ingested last"));
        Files.write(labels, original);
        assertEquals(null, IngestJob.notUpToDate(spark, "mnist", "", src, warehouse), "the same bytes again");

        // Ingested again and not yet preprocessed: the features are older than the manifest.
        Thread.sleep(5);
        IngestJob.run(spark, DatasetSpec.MNIST, src, warehouse);
        assertEquals("the features are older than the last ingest", IngestJob.notUpToDate(spark, "mnist", "", src, warehouse));
    }

    @Test
    void aFailedIngestLeavesThePreviousCommitUntouched(@TempDir Path tmp) throws Exception {
        Path good = IdxFixtures.writeValidMnist(tmp.resolve("good"), 20, 10);
        Warehouse warehouse = warehouse(tmp.resolve("wh"));
        IngestJob.run(spark, DatasetSpec.MNIST, good.toString(), warehouse);
        String manifestBefore = Files.readString(tmp.resolve("wh/datasets/mnist/_dataset.json"));

        Path bad = IdxFixtures.writeValidMnist(tmp.resolve("bad"), 25, 10);
        byte[] labels = IdxFixtures.labels(2049, 25, 25);
        labels[8 + 24] = 11;
        IdxFixtures.write(bad, IdxFixtures.TRAIN_LABELS, labels);
        InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
                () -> IngestJob.run(spark, DatasetSpec.MNIST, bad.toString(), warehouse));
        assertEquals("train-labels-idx1-ubyte.gz: label 11 at index 24, expected 0-9", e.getMessage());

        assertEquals(manifestBefore, Files.readString(tmp.resolve("wh/datasets/mnist/_dataset.json")));
        assertEquals(30, spark.read().parquet(warehouse.rawDir("mnist").toString()).count());
        try (var left = Files.list(tmp.resolve("wh/_tmp"))) {
            assertTrue(left.findAny().isEmpty(), "no scratch output left behind");
        }
    }

    @Test
    void aTaskThatFailsFirstDoesNotLeaveTheOthersFilesBehind(@TempDir Path tmp) throws Exception {
        // The test split fails at once (not gzip) while the train split's task is still decoding and writing: the job
        // fails first, and the train task must be stopped before scratch is removed, or its file stays behind.
        Path source = IdxFixtures.writeValidMnist(tmp.resolve("src"), 20_000, 10);
        Files.write(source.resolve(IdxFixtures.TEST_IMAGES), IdxFixtures.images(2051, 10, 10, 28, 28));
        Warehouse warehouse = warehouse(tmp.resolve("wh"));
        InvalidArchiveException e = assertThrows(InvalidArchiveException.class,
                () -> IngestJob.run(spark, DatasetSpec.MNIST, source.toString(), warehouse));
        assertTrue(e.getMessage().startsWith("t10k-images-idx3-ubyte.gz: not a gzip file"), e.getMessage());
        Thread.sleep(1000); // time for a task that was not stopped to write into scratch
        // Scratch directories are created by the first file written into them: when the train task is stopped
        // before it creates its file, not even _tmp exists.
        if (Files.exists(tmp.resolve("wh/_tmp"))) {
            try (var left = Files.walk(tmp.resolve("wh/_tmp"))) {
                assertEquals(List.of(tmp.resolve("wh/_tmp")), left.toList(), "nothing under scratch");
            }
        }
        assertFalse(Files.exists(tmp.resolve("wh/datasets/mnist")), "nothing committed");
    }
}
