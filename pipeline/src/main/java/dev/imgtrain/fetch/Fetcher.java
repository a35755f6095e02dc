package dev.imgtrain.fetch;

import dev.imgtrain.fetch.DatasetDownload.RemoteFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts a dataset's published files into a directory, each checked against its expected digest before it gets its
 * final name. Downloads go to {@code NAME.part}; an interrupted transfer resumes from there with an HTTP range
 * request. Failed requests (connection errors, 5xx, 429, a body cut short) are retried with exponential back-off,
 * then the next location is tried. A file already present under its final name is verified and kept.
 */
public final class Fetcher {
    /** How hard to try: attempts per location = retries + 1; the wait doubles after each failure (at most 60 s). */
    public record Options(int retries, Duration retryWait, Duration connectTimeout) {
        public static final Options DEFAULT = new Options(4, Duration.ofSeconds(2), Duration.ofSeconds(20));

        public Options {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must be >= 0, got " + retries);
            }
        }
    }

    /** What was done for one file. */
    public record Fetched(String name, Path path, long bytes, Digest digest, String from, boolean alreadyPresent) {
    }

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(\\d+|\\*)");

    private final Options options;
    private final HttpClient http;
    private final Consumer<String> log;

    public Fetcher(Options options, Consumer<String> log) {
        this.options = options;
        this.log = log;
        this.http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(options.connectTimeout())
                .build();
    }

    /** Downloads every file of {@code download} into {@code dest}. */
    public List<Fetched> download(DatasetDownload download, Path dest) throws IOException {
        Files.createDirectories(dest);
        List<Fetched> done = new ArrayList<>();
        for (RemoteFile file : download.files()) {
            Fetched present = present(file, dest);
            done.add(present != null ? present : downloadOne(download, file, dest));
        }
        return done;
    }

    /** Copies every file of {@code download} from a local mirror directory into {@code dest}, verifying each. */
    public List<Fetched> copy(DatasetDownload download, Path mirror, Path dest) throws IOException {
        if (!Files.isDirectory(mirror)) {
            throw new FetchException("--from " + mirror + ": no such directory");
        }
        Files.createDirectories(dest);
        List<Fetched> done = new ArrayList<>();
        for (RemoteFile file : download.files()) {
            Fetched present = present(file, dest);
            if (present != null) {
                done.add(present);
                continue;
            }
            Path source = mirror.resolve(file.name());
            if (!Files.isRegularFile(source)) {
                throw new FetchException(file.name() + ": missing from the mirror " + mirror);
            }
            Path part = partOf(dest, file);
            Files.copy(source, part, StandardCopyOption.REPLACE_EXISTING);
            String actual = file.digest().of(part);
            if (!actual.equals(file.digest().hex())) {
                Files.delete(part);
                throw mismatch(file, source.toString(), actual);
            }
            done.add(commit(file, part, dest, source.toString()));
        }
        return done;
    }

    /** The file under its final name, verified, or null when it is not there yet. */
    private Fetched present(RemoteFile file, Path dest) throws IOException {
        Path target = dest.resolve(file.name());
        if (!Files.exists(target)) {
            return null;
        }
        String actual = file.digest().of(target);
        if (!actual.equals(file.digest().hex())) {
            throw new FetchException(file.name() + ": already in " + dest + " but its " + file.digest().label() + " is "
                    + actual + ", expected " + file.digest().hex() + "; remove it to fetch it again");
        }
        log.accept(file.name() + ": already present, " + file.digest().label() + " verified");
        return new Fetched(file.name(), target, Files.size(target), file.digest(), target.toString(), true);
    }

    private static Path partOf(Path dest, RemoteFile file) {
        return dest.resolve(file.name() + ".part");
    }

    private Fetched commit(RemoteFile file, Path part, Path dest, String from) throws IOException {
        Path target = dest.resolve(file.name());
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
        long bytes = Files.size(target);
        log.accept(file.name() + ": " + bytes + " bytes from " + from + ", " + file.digest() + " verified");
        return new Fetched(file.name(), target, bytes, file.digest(), from, false);
    }

    private static FetchException mismatch(RemoteFile file, String from, String actual) {
        return new FetchException(file.name() + ": " + file.digest().label() + " " + actual + " (from " + from
                + ") is not the expected " + file.digest().hex() + "; the file is corrupt or not the published one"
                + " (a mirror holding other bytes, e.g. recompressed, needs --checksums FILE with its digests)");
    }

    private Fetched downloadOne(DatasetDownload download, RemoteFile file, Path dest) throws IOException {
        Path part = partOf(dest, file);
        Map<URI, String> failures = new LinkedHashMap<>();
        boolean allUnreachable = true;
        for (URI location : download.locations()) {
            URI url = location.resolve(file.name());
            Duration wait = options.retryWait();
            String failure = null;
            boolean unreachable = false;
            boolean restartedAfterMismatch = false;
            for (int attempt = 0; attempt <= options.retries(); attempt++) {
                if (attempt > 0) {
                    log.accept(file.name() + ": " + failure + "; retrying in " + wait.toMillis() + " ms (attempt "
                            + (attempt + 1) + " of " + (options.retries() + 1) + ")");
                    sleep(wait);
                    wait = wait.multipliedBy(2).compareTo(Duration.ofSeconds(60)) > 0 ? Duration.ofSeconds(60) : wait.multipliedBy(2);
                }
                Transfer t = Files.exists(part) && Files.size(part) == file.size()
                        ? new Transfer(Outcome.COMPLETE, null, true) // a whole file left unverified by an earlier fetch
                        : transfer(url, part);
                if (t.outcome == Outcome.COMPLETE) {
                    String actual = file.digest().of(part);
                    if (actual.equals(file.digest().hex())) {
                        return commit(file, part, dest, url.toString());
                    }
                    Files.delete(part);
                    if (t.resumed && !restartedAfterMismatch) {
                        // The kept partial file may be from another version of the file: start once from zero.
                        restartedAfterMismatch = true;
                        failure = "digest mismatch after resuming";
                        continue;
                    }
                    throw mismatch(file, url.toString(), actual);
                }
                failure = t.reason;
                unreachable = t.outcome == Outcome.UNREACHABLE;
                if (t.outcome == Outcome.PERMANENT || (unreachable && attempt >= 1)) {
                    break; // a 4xx will not change; a host that refused twice or does not resolve is not retried further
                }
            }
            failures.put(location, failure);
            allUnreachable &= unreachable;
        }
        StringBuilder where = new StringBuilder();
        failures.forEach((location, reason) -> where.append(where.isEmpty() ? "" : "; ")
                .append(location.getHost() == null ? location : location.getScheme() + "://" + location.getAuthority())
                .append(": ").append(reason));
        String kept = Files.exists(part) ? " (the " + Files.size(part) + " bytes received are kept in " + part
                + " and resumed on the next fetch)" : "";
        if (allUnreachable) {
            throw new FetchException(file.name() + ": cannot reach the " + download.dataset() + " download host ("
                    + where + ")" + kept + "; without network access, copy the files from a local mirror with --from DIR");
        }
        throw new FetchException(file.name() + ": download failed after " + (options.retries() + 1)
                + " attempts per location (" + where + ")" + kept + "; try again later, or copy the files from a local"
                + " mirror with --from DIR");
    }

    private enum Outcome { COMPLETE, RETRY, UNREACHABLE, PERMANENT }

    private record Transfer(Outcome outcome, String reason, boolean resumed) {
    }

    /** One GET of {@code url} into {@code part}, resuming from its current length. */
    private Transfer transfer(URI url, Path part) throws IOException {
        long offset = Files.exists(part) ? Files.size(part) : 0;
        HttpRequest.Builder request = HttpRequest.newBuilder(url).GET().header("User-Agent", "imgtrain-fetch");
        if (offset > 0) {
            request.header("Range", "bytes=" + offset + "-");
        }
        HttpResponse<InputStream> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (UnknownHostException e) {
            return new Transfer(Outcome.UNREACHABLE, "unknown host " + url.getHost(), false);
        } catch (HttpConnectTimeoutException e) {
            return new Transfer(Outcome.UNREACHABLE, "connection timed out", false);
        } catch (ConnectException e) {
            return new Transfer(Outcome.UNREACHABLE, "cannot connect" + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"), false);
        } catch (IOException e) {
            if (causedByUnresolved(e)) {
                return new Transfer(Outcome.UNREACHABLE, "unknown host " + url.getHost(), false);
            }
            return new Transfer(Outcome.RETRY, describe(e), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FetchException("interrupted while fetching " + url);
        }
        int status = response.statusCode();
        try (InputStream body = response.body()) {
            boolean append;
            if (status == 206 && offset > 0) {
                Matcher range = CONTENT_RANGE.matcher(response.headers().firstValue("Content-Range").orElse(""));
                if (!range.matches() || Long.parseLong(range.group(1)) != offset) {
                    Files.deleteIfExists(part);
                    return new Transfer(Outcome.RETRY, "the server answered range " + offset + "- with '"
                            + response.headers().firstValue("Content-Range").orElse("no Content-Range") + "'", false);
                }
                append = true;
            } else if (status == 200) {
                append = false;
            } else if (status == 416) {
                Files.deleteIfExists(part);
                return new Transfer(Outcome.RETRY, "HTTP 416 for range " + offset + "-", false);
            } else if (status >= 500 || status == 429 || status == 408) {
                return new Transfer(Outcome.RETRY, "HTTP " + status + " for " + url, false);
            } else {
                return new Transfer(Outcome.PERMANENT, "HTTP " + status + " for " + url, false);
            }
            try (OutputStream out = append
                    ? Files.newOutputStream(part, StandardOpenOption.APPEND)
                    : Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.transferTo(out);
            } catch (IOException e) {
                return new Transfer(Outcome.RETRY, "transfer cut short after " + Files.size(part) + " bytes ("
                        + describe(e) + ")", false);
            }
            return new Transfer(Outcome.COMPLETE, null, append);
        }
    }

    private static boolean causedByUnresolved(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException || t instanceof ConnectException) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    private static void sleep(Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FetchException("interrupted while waiting to retry");
        }
    }

    /** Expected digests from a {@code sha256sum}/{@code md5sum} style file: {@code HEX  NAME} per line. */
    public static Map<String, Digest> readChecksums(Path file) throws IOException {
        Map<String, Digest> digests = new LinkedHashMap<>();
        int n = 0;
        for (String line : Files.readAllLines(file)) {
            n++;
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String[] parts = trimmed.split("\\s+\\*?", 2);
            if (parts.length != 2) {
                throw new FetchException(file + " line " + n + ": expected 'HEX  NAME', got '" + trimmed + "'");
            }
            try {
                digests.put(Path.of(parts[1]).getFileName().toString(), Digest.parse(parts[0]));
            } catch (IllegalArgumentException e) {
                throw new FetchException(file + " line " + n + ": " + e.getMessage());
            }
        }
        return digests;
    }
}
