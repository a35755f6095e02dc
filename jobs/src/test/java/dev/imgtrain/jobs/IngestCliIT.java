package dev.imgtrain.jobs;

import dev.imgtrain.testing.IdxFixtures;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static dev.imgtrain.testing.IdxFixtures.TEST_IMAGES;
import static dev.imgtrain.testing.IdxFixtures.TRAIN_IMAGES;
import static dev.imgtrain.testing.IdxFixtures.TRAIN_LABELS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code imgtrain ingest} on each kind of broken archive: exit code 1, one line naming the file and the problem,
 * and neither {@code _dataset.json} nor {@code raw/} committed (nor scratch output left).
 */
class IngestCliIT {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("ingest-cli");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    interface Breakage {
        void apply(Path source) throws IOException;
    }

    static Stream<Arguments> brokenArchives() {
        return Stream.of(
                Arguments.of("wrong magic", (Breakage) src -> IdxFixtures.write(src, TEST_IMAGES,
                                IdxFixtures.images(2049, 10, 10, 28, 28)),
                        "t10k-images-idx3-ubyte.gz: magic number 2049, expected 2051 (IDX unsigned-byte 3-D images)"),
                Arguments.of("truncated payload", (Breakage) src -> {
                            byte[] full = IdxFixtures.images(2051, 30, 30, 28, 28);
                            IdxFixtures.write(src, TRAIN_IMAGES, java.util.Arrays.copyOf(full, full.length - 784 * 3 - 5));
                        },
                        "train-images-idx3-ubyte.gz: truncated: header declares 30 records, data ends at record 26"),
                Arguments.of("count mismatch", (Breakage) src -> IdxFixtures.write(src, TRAIN_LABELS,
                                IdxFixtures.labels(2049, 29, 29)),
                        "train-images-idx3-ubyte.gz: holds 30 images but train-labels-idx1-ubyte.gz holds 29 labels; "
                                + "the counts must be equal"),
                Arguments.of("label 11", (Breakage) src -> {
                            byte[] labels = IdxFixtures.labels(2049, 30, 30);
                            labels[8 + 17] = 11;
                            IdxFixtures.write(src, TRAIN_LABELS, labels);
                        },
                        "train-labels-idx1-ubyte.gz: label 11 at index 17, expected 0-9"),
                Arguments.of("missing file", (Breakage) src -> Files.delete(src.resolve(TRAIN_LABELS)),
                        "train-labels-idx1-ubyte.gz: missing from file:"),
                Arguments.of("not gzip", (Breakage) src -> Files.write(src.resolve(TEST_IMAGES),
                                IdxFixtures.images(2051, 10, 10, 28, 28)),
                        "t10k-images-idx3-ubyte.gz: not a gzip file (Not in GZIP format)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenArchives")
    void brokenArchiveIsRefusedAndNothingIsCommitted(String name, Breakage breakage, String expected,
                                                     @TempDir Path tmp) throws Exception {
        Path source = IdxFixtures.writeValidMnist(tmp.resolve("src"), 30, 10);
        breakage.apply(source);
        Path warehouse = tmp.resolve("wh");

        String[] result = CliParsingTest.execute("ingest", "--source", source.toString(), "--warehouse", warehouse.toString());

        assertEquals("1", result[0], result[1]);
        String firstLine = result[1].lines().findFirst().orElse("");
        assertTrue(firstLine.startsWith("imgtrain ingest: invalid input: " + expected), firstLine);
        assertFalse(Files.exists(warehouse.resolve("datasets/mnist/_dataset.json")), "no manifest committed");
        assertFalse(Files.exists(warehouse.resolve("datasets/mnist/raw")), "no raw table committed");
        if (Files.exists(warehouse.resolve("_tmp"))) {
            try (var left = Files.list(warehouse.resolve("_tmp"))) {
                assertEquals(0, left.count(), "no scratch output left");
            }
        }
    }

    @org.junit.jupiter.api.Test
    void missingSourceDirectoryNamesItAndTheFetchScript(@TempDir Path tmp) {
        Path absent = tmp.resolve("no-mnist-here");
        String[] result = CliParsingTest.execute("ingest", "--source", absent.toString(),
                "--warehouse", tmp.resolve("wh").toString());
        assertEquals("1", result[0], result[1]);
        String firstLine = result[1].lines().findFirst().orElse("");
        assertTrue(firstLine.startsWith("imgtrain ingest: invalid input: file:" + absent + ": no such file or directory"), firstLine);
        assertTrue(firstLine.endsWith("pass --source DIR_OR_URI, or fetch MNIST with deploy/local/fetch-mnist.sh "
                + absent), firstLine);
        assertFalse(Files.exists(tmp.resolve("wh/datasets")));
    }

    @org.junit.jupiter.api.Test
    void brokenCifarArchiveIsRefusedAndNothingIsCommitted(@TempDir Path tmp) throws Exception {
        var members = dev.imgtrain.testing.CifarFixtures.validMembers(2, 2);
        members.remove(dev.imgtrain.testing.CifarFixtures.PREFIX + "data_batch_3.bin");
        Path archive = tmp.resolve("cifar-10-binary.tar.gz");
        Files.write(archive, dev.imgtrain.testing.CifarFixtures.archive(members, null));
        Path warehouse = tmp.resolve("wh");

        String[] result = CliParsingTest.execute("ingest", "--dataset", "cifar10", "--source", archive.toString(),
                "--warehouse", warehouse.toString());

        assertEquals("1", result[0], result[1]);
        assertEquals("imgtrain ingest: invalid input: cifar-10-binary.tar.gz: member cifar-10-batches-bin/data_batch_3.bin is missing",
                result[1].lines().findFirst().orElse(""));
        assertFalse(Files.exists(warehouse.resolve("datasets/cifar10")));
    }

    @org.junit.jupiter.api.Test
    void imageFolderIngestCountsEveryClassAndRefusesAnOddImage(@TempDir Path tmp) throws Exception {
        Path source = dev.imgtrain.testing.ImageFixtures.folderSet(tmp.resolve("images"), 3);
        Path warehouse = tmp.resolve("wh");
        String[] ok = CliParsingTest.execute("ingest", "--format", "folder", "--dataset", "shapes",
                "--source", source.toString(), "--warehouse", warehouse.toString());
        assertEquals("0", ok[0], ok[1]);
        var manifest = dev.imgtrain.store.Warehouse.JSON.readTree(warehouse.resolve("datasets/shapes/_dataset.json").toFile());
        assertEquals(6, manifest.at("/counts/train").asLong());
        assertEquals(2, manifest.at("/counts/test").asLong());
        assertEquals(3, manifest.at("/class_counts/train/a").asLong());
        assertEquals(3, manifest.at("/class_counts/train/b").asLong());
        assertEquals(3, manifest.at("/shape/2").asInt());

        dev.imgtrain.testing.ImageFixtures.png(source.resolve("train/a/zz-odd.png"), 8, 8, false, 0);
        Path other = tmp.resolve("wh2");
        String[] bad = CliParsingTest.execute("ingest", "--format", "folder", "--dataset", "shapes",
                "--source", source.toString(), "--warehouse", other.toString());
        assertEquals("1", bad[0], bad[1]);
        assertEquals("imgtrain ingest: invalid input: train/a/zz-odd.png: image is 8x8x3, expected 4x3x3 like the first "
                + "train image (width x height x channels)", bad[1].lines().findFirst().orElse(""));
        assertFalse(Files.exists(other.resolve("datasets/shapes")));
    }
}
