package dev.imgtrain.jobs;

import dev.imgtrain.testing.FileServer;
import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code imgtrain datasets fetch} through the real CLI on the real MNIST files (../shared/datasets), served by a
 * loopback HTTP server or copied from a directory: never the internet.
 */
class DatasetsFetchCliIT {
    private static final Path MNIST = LocalSpark.mnistDir();
    private static final List<String> NAMES = List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");

    /** sha256sum-style digests of the real files, as a mirror operator would publish them. */
    private static Path checksums(Path dir) throws Exception {
        StringBuilder sums = new StringBuilder();
        for (String name : NAMES) {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(MNIST.resolve(name)));
            sums.append(HexFormat.of().formatHex(digest)).append("  ").append(name).append('\n');
        }
        return Files.writeString(dir.resolve("SHA256SUMS"), sums);
    }

    @Test
    void downloadsFromAnHttpMirrorResumingACutTransferThenIngests(@TempDir Path tmp) throws Exception {
        Path dest = tmp.resolve("mnist");
        try (FileServer server = new FileServer()) {
            for (String name : NAMES) {
                server.put(name, Files.readAllBytes(MNIST.resolve(name)));
            }
            server.cutNext("train-images-idx3-ubyte.gz", 4_000_000).failNext("t10k-labels-idx1-ubyte.gz", 503);
            String[] result = CliParsingTest.execute("datasets", "fetch", "--dataset", "mnist", "--dest", dest.toString(),
                    "--url", server.base().toString(), "--checksums", checksums(tmp).toString(), "--retry-wait", "0.05");
            assertEquals("0", result[0], result[1]);
            // The second request for the cut file asks for the rest only (from where the received bytes end).
            List<FileServer.Request> images = server.requests().stream()
                    .filter(r -> r.path().endsWith("train-images-idx3-ubyte.gz")).toList();
            assertEquals(2, images.size(), images.toString());
            String range = images.get(1).range();
            assertTrue(range != null && range.matches("bytes=\\d+-"), images.toString());
            long from = Long.parseLong(range.substring(6, range.length() - 1));
            assertTrue(from > 0 && from <= 4_000_000, images.toString());
        }
        for (String name : NAMES) {
            assertArrayEquals(Files.readAllBytes(MNIST.resolve(name)), Files.readAllBytes(dest.resolve(name)), name);
        }
        try (var listed = Files.list(dest)) {
            assertEquals(4, listed.count(), "only the four files, no .part left");
        }

        SparkSession spark = LocalSpark.start("fetch-cli");
        try {
            String[] ingest = CliParsingTest.execute("ingest", "--source", dest.toString(), "--warehouse", tmp.resolve("wh").toString());
            assertEquals("0", ingest[0], ingest[1]);
        } finally {
            spark.stop();
        }
        var manifest = dev.imgtrain.store.Warehouse.JSON.readTree(tmp.resolve("wh/datasets/mnist/_dataset.json").toFile());
        assertEquals(60_000, manifest.at("/counts/train").asLong());
        assertEquals(10_000, manifest.at("/counts/test").asLong());
    }

    @Test
    void aMirrorFileThatDoesNotVerifyIsNamedAndNotCommitted(@TempDir Path tmp) throws Exception {
        Path mirror = Files.createDirectories(tmp.resolve("mirror"));
        for (String name : NAMES) {
            Files.copy(MNIST.resolve(name), mirror.resolve(name));
        }
        byte[] labels = Files.readAllBytes(mirror.resolve("train-labels-idx1-ubyte.gz"));
        Path sums = checksums(tmp);
        Files.write(mirror.resolve("train-labels-idx1-ubyte.gz"), java.util.Arrays.copyOf(labels, labels.length - 10));
        Path dest = tmp.resolve("dest");

        String[] result = CliParsingTest.execute("datasets", "fetch", "--dataset", "mnist", "--dest", dest.toString(),
                "--from", mirror.toString(), "--checksums", sums.toString());

        assertEquals("1", result[0], result[1]);
        String first = result[1].lines().findFirst().orElse("");
        assertTrue(first.startsWith("imgtrain datasets fetch: failed: train-labels-idx1-ubyte.gz: sha256 "), first);
        assertTrue(first.contains("(from " + mirror.resolve("train-labels-idx1-ubyte.gz") + ") is not the expected"), first);
        assertFalse(Files.exists(dest.resolve("train-labels-idx1-ubyte.gz")));
        assertFalse(Files.exists(dest.resolve("train-labels-idx1-ubyte.gz.part")));
        assertTrue(Files.exists(dest.resolve("train-images-idx3-ubyte.gz")), "the file before it was verified and kept");
    }

    @Test
    void anUnreachableHostFailsFastAndNamesFrom(@TempDir Path tmp) throws Exception {
        int port = dev.imgtrain.testing.Loopback.freePort();
        String[] result = CliParsingTest.execute("datasets", "fetch", "--dataset", "cifar10", "--dest", tmp.resolve("c").toString(),
                "--url", "http://127.0.0.1:" + port + "/kriz", "--retry-wait", "0.05");
        assertEquals("1", result[0], result[1]);
        String first = result[1].lines().findFirst().orElse("");
        assertEquals("imgtrain datasets fetch: failed: cifar-10-binary.tar.gz: cannot reach the cifar10 download host (http://127.0.0.1:"
                + port + ": cannot connect); without network access, copy the files from a local mirror with --from DIR", first);
    }

    @Test
    void anUnknownDatasetIsAUsageError(@TempDir Path tmp) {
        String[] result = CliParsingTest.execute("datasets", "fetch", "--dataset", "imagenet", "--dest", tmp.toString());
        assertEquals("2", result[0], result[1]);
        assertTrue(result[1].contains("no download known for dataset 'imagenet'"), result[1]);
    }
}
