package dev.imgtrain.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The warehouse layout over any Hadoop FileSystem (file:, hdfs:, s3a:), and the one way outputs are committed:
 * written under {@code <warehouse>/_tmp/<uuid>/}, then moved into place, so a reader never sees half an output and
 * a failed stage leaves the previous committed output as it was.
 *
 * <pre>
 * datasets/&lt;name&gt;/_dataset.json, raw/, features/
 * runs/&lt;run-id&gt;/params.json, metrics.jsonl, checkpoints/epoch-N.zip, model.zip, evaluation.json, _SUCCESS
 * </pre>
 */
public final class Warehouse {
    private static final Logger LOG = LoggerFactory.getLogger(Warehouse.class);
    public static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE)
            .disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** The marker a committed directory (a Spark table, a run) holds, written last. */
    public static final String SUCCESS = "_SUCCESS";

    /** How long a lease (a run's lock, a scratch directory's owner) may go without a heartbeat before it is dead. */
    public static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(10);

    private final Path root;
    private final FileSystem fs;
    private final Duration staleAfter;
    /** Set once an operation found the object store unreachable: later clean-ups are skipped, not retried. */
    private volatile boolean unreachable;

    public Warehouse(String uri, Configuration hadoop) {
        this(uri, hadoop, DEFAULT_STALE_AFTER);
    }

    public Warehouse(String uri, Configuration hadoop, Duration staleAfter) {
        this.staleAfter = staleAfter;
        this.root = qualify(uri);
        try {
            this.fs = root.getFileSystem(hadoop);
        } catch (IOException e) {
            throw new UncheckedIOException("warehouse " + uri + ": cannot open its file system: " + e.getMessage(), e);
        }
    }

    /** A plain path (relative or absolute) becomes a file: URI; anything with a scheme is taken as it is. */
    public static Path qualify(String uri) {
        URI parsed = URI.create(uri.replace(" ", "%20"));
        if (parsed.getScheme() == null || parsed.getScheme().length() == 1) {
            return new Path(new File(uri).getAbsoluteFile().toURI());
        }
        return new Path(uri);
    }

    public Path root() {
        return root;
    }

    public FileSystem fs() {
        return fs;
    }

    /** See {@link Lease}: a holder silent for this long is dead ({@code storage.stale-after}). */
    public Duration staleAfter() {
        return staleAfter;
    }

    public Path datasetDir(String dataset) {
        return new Path(root, "datasets/" + dataset);
    }

    public Path rawDir(String dataset) {
        return new Path(datasetDir(dataset), "raw");
    }

    public Path featuresDir(String dataset) {
        return new Path(datasetDir(dataset), "features");
    }

    public Path manifest(String dataset) {
        return new Path(datasetDir(dataset), "_dataset.json");
    }

    public Path runsDir() {
        return new Path(root, "runs");
    }

    public Path runDir(String runId) {
        return new Path(runsDir(), runId);
    }

    /** A fresh scratch directory name under {@code _tmp/}; stages take one through {@link Scratch}. */
    Path newTempDir(String purpose) {
        return new Path(tmpDir(), purpose + "-" + UUID.randomUUID());
    }

    public Path tmpDir() {
        return new Path(root, "_tmp");
    }

    /** The lock file of run {@code runId} ({@code _locks/run-<id>.lock}; see {@link Lease}). */
    public Path runLock(String runId) {
        return new Path(root, "_locks/run-" + runId + ".lock");
    }

    public boolean exists(Path path) {
        try {
            return fs.exists(path);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Moves a finished directory into place, replacing what was there only once the new one is complete. Its
     * {@code _SUCCESS} marker (Spark's) is taken out first and written again last: on an object store a directory
     * rename is a copy of each object in no set order, and readers take the marker to mean "complete".
     */
    public void commitDirectory(Path finished, Path target) {
        try {
            fs.mkdirs(target.getParent());
            Path marker = new Path(finished, SUCCESS);
            byte[] markerContent = null; // an S3A committer's _SUCCESS is a JSON summary worth keeping
            if (fs.exists(marker)) {
                try (InputStream in = fs.open(marker)) {
                    markerContent = in.readAllBytes();
                }
                fs.delete(marker, false);
            }
            Path previous = null;
            if (fs.exists(target)) {
                previous = new Path(target.getParent(), "_" + target.getName() + ".replaced-" + UUID.randomUUID());
                rename(target, previous);
            }
            rename(finished, target);
            if (markerContent != null) {
                try (FSDataOutputStream out = fs.create(new Path(target, SUCCESS), true)) {
                    out.write(markerContent);
                }
            }
            if (previous != null) {
                fs.delete(previous, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot commit " + target + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code dir} holds a {@code _SUCCESS} marker: the sign that it was committed whole. */
    public boolean committed(Path dir) {
        return exists(new Path(dir, SUCCESS));
    }

    /** Writes a whole file at once: to a scratch name beside it, then renamed over it. */
    public void writeAtomically(Path target, byte[] content) {
        Path part = new Path(target.getParent(), "_" + target.getName() + ".part-" + UUID.randomUUID());
        try {
            fs.mkdirs(target.getParent());
            try (FSDataOutputStream out = fs.create(part, true)) {
                out.write(content);
            }
            if (fs.exists(target)) {
                fs.delete(target, false);
            }
            rename(part, target);
        } catch (IOException e) {
            unreachable |= ObjectStorage.unreachable(e);
            deleteQuietly(part);
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    public void writeJson(Path target, Object value) {
        try {
            writeAtomically(target, JSON.writeValueAsBytes(value));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise " + target.getName() + ": " + e.getMessage(), e);
        }
    }

    public void writeText(Path target, String text) {
        writeAtomically(target, text.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] readBytes(Path path) {
        try (InputStream in = fs.open(path)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    public <T> T readJson(Path path, Class<T> type) {
        try (InputStream in = fs.open(path)) {
            return JSON.readValue(in, type);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Run ids under runs/ that have a _SUCCESS marker, sorted. */
    public List<String> committedRuns() {
        List<String> runs = new ArrayList<>();
        try {
            if (!fs.exists(runsDir())) {
                return runs;
            }
            for (FileStatus status : fs.listStatus(runsDir())) {
                if (status.isDirectory() && committed(status.getPath())) {
                    runs.add(status.getPath().getName());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(runsDir() + ": " + e.getMessage(), e);
        }
        runs.sort(String::compareTo);
        return runs;
    }

    /** Deletes {@code path} (recursively), or fails saying why. */
    public void delete(Path path) {
        try {
            if (fs.exists(path) && !fs.delete(path, true)) {
                throw new IOException("delete returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + path + ": " + e.getMessage(), e);
        }
    }

    /** Whether an operation found the object store unreachable (then clean-ups are skipped, see {@link #deleteQuietly}). */
    public boolean foundUnreachable() {
        return unreachable;
    }

    /**
     * Deletes {@code path} if it can, logging when not. Once the store was found unreachable it does not try (each try
     * would wait out the retries): what is left is removed by the next run ({@link Scratch}, {@link Lease}).
     */
    public void deleteQuietly(Path path) {
        if (unreachable) {
            LOG.info("not deleting {}: the store is unreachable; the next run removes it", path);
            return;
        }
        try {
            fs.delete(path, true);
        } catch (IOException e) {
            unreachable |= ObjectStorage.unreachable(e);
            LOG.warn("could not delete {}: {}", path, e.getMessage());
        }
    }

    /**
     * Creates {@code file} only if it does not exist, atomically: java.nio's CREATE_NEW on file: (Hadoop's local file
     * system checks, then creates: two threads both got a lock in a test), the NameNode's create on hdfs:, S3's
     * conditional PUT ({@code If-None-Match: *}, {@link S3Conditional}) on s3a:. Where an S3 server refuses conditional
     * writes (501), S3A's check-then-PUT, which is not atomic, with a WARN once.
     *
     * @return the version the file was written as: its S3 ETag, or "" where the file system has none
     * @throws org.apache.hadoop.fs.FileAlreadyExistsException when it exists
     */
    public String createExclusively(Path file, byte[] content) throws IOException {
        Path qualified = fs.makeQualified(file);
        if ("file".equals(qualified.toUri().getScheme())) {
            java.nio.file.Path local = java.nio.file.Path.of(qualified.toUri());
            java.nio.file.Files.createDirectories(local.getParent());
            try {
                java.nio.file.Files.write(local, content, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new org.apache.hadoop.fs.FileAlreadyExistsException(file + " exists");
            }
            return "";
        }
        S3Conditional conditional = conditional();
        if (conditional != null) {
            try {
                return conditional.create(file, content);
            } catch (S3Conditional.NotSupportedException e) {
                conditionalUnsupported(e);
            }
        }
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write(content);
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            throw e;
        } catch (IOException e) {
            if (fs.exists(file)) {
                throw new org.apache.hadoop.fs.FileAlreadyExistsException(file + " exists");
            }
            throw e;
        }
        return "";
    }

    /**
     * Replaces {@code file} with {@code content} only while it is still the version this process last wrote: on s3a:
     * S3's {@code If-Match: <version>} decides in the same request; elsewhere its bytes are compared with
     * {@code written} first (a read, then the write: a writer in between is seen at the next check).
     *
     * @return the new version ("" where the file system has none), or null when the file changed or is gone
     */
    public String replaceIfUnchanged(Path file, byte[] content, String version, byte[] written) throws IOException {
        S3Conditional conditional = version.isEmpty() ? null : conditional();
        if (conditional != null) {
            try {
                return conditional.replace(file, content, version);
            } catch (S3Conditional.NotSupportedException e) {
                conditionalUnsupported(e);
            }
        }
        if (!unchanged(file, version, written)) {
            return null;
        }
        try (FSDataOutputStream out = fs.create(file, true)) {
            out.write(content);
        }
        return "";
    }

    /**
     * Whether {@code file} is still the version this process last wrote (its S3 ETag, or where there is none, the
     * bytes {@code written}); false when it is gone.
     */
    public boolean unchanged(Path file, String version, byte[] written) throws IOException {
        try {
            if (!version.isEmpty()) { // only S3 conditional writes give one
                return version.equals(S3Conditional.etagOf(fs, file));
            }
            try (InputStream in = fs.open(file)) {
                return java.util.Arrays.equals(in.readAllBytes(), written);
            }
        } catch (java.io.FileNotFoundException | org.apache.hadoop.fs.ChecksumException goneOrRewritten) {
            return false; // a checksum that no longer fits: someone else wrote it
        }
    }

    /**
     * Replaces {@code file}, last seen as {@code seen}, by {@code content} unless another process does so first. Of
     * several processes taking over the same version of a file at once, one wins: each first creates the claim
     * {@code <file>.takeover-<version seen>} exclusively ({@link #createExclusively}: atomic on file:, hdfs: and s3a:),
     * and only the one that created it writes the file (on s3a: conditional on the ETag seen), then removes the claim.
     * A claim left by a process that died in between is removed once older than {@link #staleAfter}.
     * (S3's {@code If-Match} alone would do on Amazon S3, but S3Proxy 4.1.0 emulates it with a read, then a write:
     * 3-5 of 8 processes won each round in a probe.)
     *
     * @return the new version ("" where the file system has none), or null when another process got there first
     */
    public String takeOver(Path file, FileStatus seen, byte[] content) throws IOException {
        String etag = version(seen);
        String seenVersion = etag != null ? etag.replaceAll("[^A-Za-z0-9]", "")
                : seen.getModificationTime() + "-" + seen.getLen();
        Path claim = new Path(file.getParent(), file.getName() + ".takeover-" + seenVersion);
        try {
            createExclusively(claim, content);
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException another) {
            try {
                if (System.currentTimeMillis() - fs.getFileStatus(claim).getModificationTime() > staleAfter.toMillis()) {
                    deleteQuietly(claim);
                }
            } catch (java.io.FileNotFoundException gone) {
                // the other process finished
            }
            return null;
        }
        try {
            if (!sameVersion(fs.getFileStatus(file), seen)) {
                return null; // rewritten since: its holder is alive after all, or another takeover finished
            }
            S3Conditional conditional = etag == null ? null : conditional();
            if (conditional != null) {
                try {
                    return conditional.replace(file, content, etag);
                } catch (S3Conditional.NotSupportedException e) {
                    conditionalUnsupported(e);
                }
            }
            try (FSDataOutputStream out = fs.create(file, true)) {
                out.write(content);
            }
            return "";
        } catch (java.io.FileNotFoundException released) {
            return null;
        } finally {
            deleteQuietly(claim);
        }
    }

    /** True for S3A, judged by class name: {@link S3Conditional} and hadoop-aws are only loaded for it. */
    static boolean isS3a(FileSystem fs) {
        return "org.apache.hadoop.fs.s3a.S3AFileSystem".equals(fs.getClass().getName());
    }

    /** Whether two statuses of one file show the same version of it (time, length and, on s3a:, ETag). */
    boolean sameVersion(FileStatus a, FileStatus b) {
        return a.getModificationTime() == b.getModificationTime() && a.getLen() == b.getLen()
                && java.util.Objects.equals(version(a), version(b));
    }

    /** The version a status reports: its S3 ETag on s3a:, null elsewhere. */
    String version(FileStatus status) {
        return isS3a(fs) ? S3Conditional.etag(status) : null;
    }

    private volatile S3Conditional conditional;
    private volatile boolean conditionalUnsupported;

    /** The conditional writer of an s3a: warehouse, opened on first use; null elsewhere or where the server has none. */
    private S3Conditional conditional() throws IOException {
        if (conditionalUnsupported || !isS3a(fs)) {
            return null;
        }
        if (conditional == null) {
            synchronized (this) {
                if (conditional == null) {
                    conditional = S3Conditional.open(fs);
                }
            }
        }
        return conditional;
    }

    private void conditionalUnsupported(IOException e) {
        if (!conditionalUnsupported) {
            conditionalUnsupported = true;
            LOG.warn("{}; lock files fall back to check-then-write, which two processes starting in the same moment can "
                    + "both pass (docs/operations.md, \"Locks on object storage\")", e.getMessage());
        }
    }

    private void rename(Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("rename " + from + " -> " + to + " failed");
        }
    }
}
