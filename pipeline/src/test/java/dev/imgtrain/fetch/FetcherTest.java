package dev.imgtrain.fetch;

import dev.imgtrain.datasets.ArchiveFormat;
import dev.imgtrain.datasets.Cifar10Archive;
import dev.imgtrain.fetch.DatasetDownload.RemoteFile;
import dev.imgtrain.testing.FileServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FetcherTest {
    @TempDir
    Path dir;

    private final List<String> log = new ArrayList<>();
    private final Fetcher fetcher = new Fetcher(new Fetcher.Options(3, Duration.ofMillis(20), Duration.ofSeconds(5)), log::add);
    private byte[] images;
    private byte[] labels;

    @BeforeEach
    void files() {
        Random random = new Random(42);
        images = new byte[300_000];
        random.nextBytes(images);
        labels = new byte[1_234];
        random.nextBytes(labels);
    }

    private static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

    private DatasetDownload twoFiles(URI location) throws Exception {
        return new DatasetDownload("mnist", List.of(location), List.of(
                new RemoteFile("images.gz", images.length, Digest.parse(md5(images))),
                new RemoteFile("labels.gz", labels.length, Digest.parse(md5(labels)))));
    }

    private List<String> names(Path dest) throws IOException {
        try (Stream<Path> s = Files.list(dest)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void downloadsAndVerifiesEveryFile() throws Exception {
        try (FileServer server = new FileServer().put("images.gz", images).put("labels.gz", labels)) {
            Path dest = dir.resolve("out");
            List<Fetcher.Fetched> done = fetcher.download(twoFiles(server.base()), dest);
            assertEquals(List.of("images.gz", "labels.gz"), names(dest));
            assertArrayEquals(images, Files.readAllBytes(dest.resolve("images.gz")));
            assertArrayEquals(labels, Files.readAllBytes(dest.resolve("labels.gz")));
            assertEquals(2, server.requests().size());
            assertFalse(done.get(0).alreadyPresent());
            // A second fetch verifies what is there and asks the server nothing.
            List<Fetcher.Fetched> again = fetcher.download(twoFiles(server.base()), dest);
            assertTrue(again.stream().allMatch(Fetcher.Fetched::alreadyPresent));
            assertEquals(2, server.requests().size());
        }
    }

    @Test
    void retriesServerErrorsWithBackOff() throws Exception {
        try (FileServer server = new FileServer().put("images.gz", images).put("labels.gz", labels)
                .failNext("images.gz", 503).failNext("images.gz", 500)) {
            fetcher.download(twoFiles(server.base()), dir);
            assertArrayEquals(images, Files.readAllBytes(dir.resolve("images.gz")));
            assertEquals(3, server.requests().stream().filter(r -> r.path().endsWith("images.gz")).count());
            assertTrue(log.stream().anyMatch(l -> l.contains("HTTP 503") && l.contains("retrying")), log.toString());
        }
    }

    @Test
    void resumesACutTransferWithARangeRequest() throws Exception {
        try (FileServer server = new FileServer().put("images.gz", images).put("labels.gz", labels)
                .cutNext("images.gz", 100_000)) {
            fetcher.download(twoFiles(server.base()), dir);
            assertArrayEquals(images, Files.readAllBytes(dir.resolve("images.gz")));
            List<FileServer.Request> imageRequests = server.requests().stream()
                    .filter(r -> r.path().endsWith("images.gz")).toList();
            assertEquals(2, imageRequests.size());
            assertEquals(null, imageRequests.get(0).range());
            // The range starts where the received bytes end: at most the 100,000 sent (some may be lost in flight).
            long resumedAt = rangeStart(imageRequests.get(1).range());
            assertTrue(resumedAt > 0 && resumedAt <= 100_000, imageRequests.toString());
            assertEquals(100_000 + (images.length - resumedAt) + labels.length, server.bytesSent(),
                    "only the bytes that did not arrive are sent again");
            assertFalse(Files.exists(dir.resolve("images.gz.part")));
        }
    }

    private static long rangeStart(String range) {
        assertTrue(range != null && range.matches("bytes=\\d+-"), "a range request: " + range);
        return Long.parseLong(range.substring(6, range.length() - 1));
    }

    @Test
    void startsOverWhenTheServerIgnoresRanges() throws Exception {
        try (FileServer server = new FileServer().put("images.gz", images).put("labels.gz", labels)
                .cutNext("images.gz", 100_000).ranges(false)) {
            fetcher.download(twoFiles(server.base()), dir);
            assertArrayEquals(images, Files.readAllBytes(dir.resolve("images.gz")));
        }
    }

    @Test
    void aPartialFileFromAnEarlierFetchIsResumed() throws Exception {
        Files.write(dir.resolve("images.gz.part"), java.util.Arrays.copyOf(images, 250_000));
        try (FileServer server = new FileServer().put("images.gz", images).put("labels.gz", labels)) {
            fetcher.download(twoFiles(server.base()), dir);
            assertArrayEquals(images, Files.readAllBytes(dir.resolve("images.gz")));
            assertEquals(images.length - 250_000 + labels.length, server.bytesSent());
        }
    }

    @Test
    void aDigestMismatchFailsNamingTheFileAndLeavesNothing() throws Exception {
        byte[] other = images.clone();
        other[1000] ^= 1;
        try (FileServer server = new FileServer().put("images.gz", other).put("labels.gz", labels)) {
            FetchException e = assertThrows(FetchException.class, () -> fetcher.download(twoFiles(server.base()), dir));
            assertTrue(e.getMessage().startsWith("images.gz: md5 " + md5(other)), e.getMessage());
            assertTrue(e.getMessage().contains("is not the expected " + md5(images)), e.getMessage());
            assertEquals(List.of(), names(dir));
        }
    }

    @Test
    void anUnreachableHostIsSaidSoAndNamesFrom() throws Exception {
        int port = dev.imgtrain.testing.Loopback.freePort();
        FetchException e = assertThrows(FetchException.class,
                () -> fetcher.download(twoFiles(URI.create("http://127.0.0.1:" + port + "/mnist/")), dir));
        assertTrue(e.getMessage().contains("cannot reach the mnist download host (http://127.0.0.1:" + port + ": cannot connect"), e.getMessage());
        assertTrue(e.getMessage().contains("--from DIR"), e.getMessage());
        assertEquals(List.of(), names(dir));
    }

    @Test
    void aMissingFileIsNotRetriedAndTheNextLocationIsTried() throws Exception {
        try (FileServer empty = new FileServer();
             FileServer mirror = new FileServer().put("images.gz", images).put("labels.gz", labels)) {
            DatasetDownload d = twoFiles(empty.base()).at(List.of(empty.base(), mirror.base()));
            fetcher.download(d, dir);
            assertEquals(List.of("images.gz", "labels.gz"), names(dir));
            assertEquals(2, empty.requests().size(), "one request per file, a 404 is not retried");

            FetchException e = assertThrows(FetchException.class, () -> fetcher.download(twoFiles(empty.base()), dir.resolve("x")));
            assertTrue(e.getMessage().contains("HTTP 404 for " + empty.base() + "images.gz"), e.getMessage());
        }
    }

    @Test
    void givesUpAfterTheRetriesKeepingWhatArrived() throws Exception {
        try (FileServer server = new FileServer().put("images.gz", images).put("labels.gz", labels)
                .cutNext("images.gz", 1000).failNext("images.gz", 503).failNext("images.gz", 503).failNext("images.gz", 503)) {
            FetchException e = assertThrows(FetchException.class, () -> fetcher.download(twoFiles(server.base()), dir));
            assertTrue(e.getMessage().contains("download failed after 4 attempts"), e.getMessage());
            java.util.regex.Matcher kept = java.util.regex.Pattern.compile("the (\\d+) bytes received are kept").matcher(e.getMessage());
            assertTrue(kept.find(), e.getMessage());
            long received = Long.parseLong(kept.group(1));
            assertTrue(received > 0 && received <= 1000, e.getMessage());
            assertFalse(Files.exists(dir.resolve("images.gz")));
            // The next fetch resumes from there.
            fetcher.download(twoFiles(server.base()), dir);
            assertEquals("bytes=" + received + "-", server.requests().get(server.requests().size() - 2).range());
            assertArrayEquals(images, Files.readAllBytes(dir.resolve("images.gz")));
        }
    }

    @Test
    void copiesFromAMirrorDirectoryVerifyingEachFile() throws Exception {
        Path mirror = Files.createDirectories(dir.resolve("mirror"));
        Files.write(mirror.resolve("images.gz"), images);
        Path dest = dir.resolve("dest");
        FetchException missing = assertThrows(FetchException.class,
                () -> fetcher.copy(twoFiles(URI.create("http://unused/")), mirror, dest));
        assertEquals("labels.gz: missing from the mirror " + mirror, missing.getMessage());

        Files.write(mirror.resolve("labels.gz"), new byte[]{1, 2, 3});
        FetchException wrong = assertThrows(FetchException.class,
                () -> fetcher.copy(twoFiles(URI.create("http://unused/")), mirror, dest));
        assertTrue(wrong.getMessage().startsWith("labels.gz: md5 "), wrong.getMessage());
        assertEquals(List.of("images.gz"), names(dest), "the verified file stays, the wrong one is not committed");

        Files.write(mirror.resolve("labels.gz"), labels);
        fetcher.copy(twoFiles(URI.create("http://unused/")), mirror, dest);
        assertArrayEquals(labels, Files.readAllBytes(dest.resolve("labels.gz")));
    }

    @Test
    void aFileAlreadyThereThatDoesNotVerifyIsNotOverwritten() throws Exception {
        Files.write(dir.resolve("images.gz"), new byte[]{9});
        FetchException e = assertThrows(FetchException.class, () -> fetcher.download(twoFiles(URI.create("http://unused/")), dir));
        assertTrue(e.getMessage().startsWith("images.gz: already in " + dir), e.getMessage());
        assertArrayEquals(new byte[]{9}, Files.readAllBytes(dir.resolve("images.gz")));
    }

    @Test
    void checksumFilesOverrideThePublishedDigests() throws Exception {
        Path sums = dir.resolve("SHA256SUMS");
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(images));
        Files.writeString(sums, "# mirror\n" + sha + "  images.gz\n" + md5(labels) + " *sub/labels.gz\n");
        Map<String, Digest> digests = Fetcher.readChecksums(sums);
        assertEquals(new Digest("SHA-256", sha), digests.get("images.gz"));
        assertEquals(new Digest("MD5", md5(labels)), digests.get("labels.gz"));
        DatasetDownload d = twoFiles(URI.create("http://unused/")).withDigests(digests);
        Path mirror = Files.createDirectories(dir.resolve("m"));
        Files.write(mirror.resolve("images.gz"), images);
        Files.write(mirror.resolve("labels.gz"), labels);
        fetcher.copy(d, mirror, dir.resolve("out"));
        assertTrue(log.stream().anyMatch(l -> l.contains("sha256 " + sha + " verified")), log.toString());

        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> twoFiles(URI.create("http://unused/")).withDigests(Map.of("images.gz", Digest.parse(sha), "x.gz", Digest.parse(sha))));
        assertTrue(unknown.getMessage().contains("'x.gz', which is not a file of mnist"), unknown.getMessage());
        Files.writeString(sums, "abc images.gz\n");
        FetchException bad = assertThrows(FetchException.class, () -> Fetcher.readChecksums(sums));
        assertTrue(bad.getMessage().contains("line 1: 'abc' has 3 hex digits"), bad.getMessage());
    }

    @Test
    void theCatalogueNamesTheFilesIngestReads() {
        ArchiveFormat.Idx idx = ArchiveFormat.Idx.MNIST_NAMES;
        List<String> idxNames = List.of(idx.trainImages(), idx.trainLabels(), idx.testImages(), idx.testLabels());
        for (DatasetDownload d : List.of(DatasetDownload.MNIST, DatasetDownload.FASHION_MNIST)) {
            assertEquals(idxNames, d.files().stream().map(RemoteFile::name).toList(), d.dataset());
            assertEquals(d.spec().format(), idx);
        }
        assertEquals(List.of(Cifar10Archive.ARCHIVE), DatasetDownload.CIFAR10.files().stream().map(RemoteFile::name).toList());
        for (DatasetDownload d : DatasetDownload.KNOWN) {
            assertTrue(d.locations().get(0).toString().endsWith("/"), "base URLs end in /: " + d.locations());
        }
    }
}
