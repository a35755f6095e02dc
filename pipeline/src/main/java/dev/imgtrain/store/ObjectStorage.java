package dev.imgtrain.store;

import dev.imgtrain.config.PipelineConfig.StorageConfig;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * S3A as a warehouse or source: the {@code storage.s3a.*} settings put into Hadoop's configuration, the output
 * committer for Parquet on s3a://, and a preflight check that tells wrong credentials, a missing bucket and an
 * unreachable endpoint apart in seconds (S3A's default retries take minutes to fail on each).
 * Nothing here reads, logs or repeats credentials.
 */
public final class ObjectStorage {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectStorage.class);

    private ObjectStorage() {
    }

    public static boolean isS3a(String uri) {
        return uri != null && uri.toLowerCase(Locale.ROOT).startsWith("s3a://");
    }

    /** The Hadoop properties the settings stand for; empty settings are left out, so other sources stay in force. */
    public static Map<String, String> hadoopSettings(StorageConfig s) {
        Map<String, String> p = new LinkedHashMap<>();
        if (!s.endpoint().isEmpty()) {
            p.put("fs.s3a.endpoint", s.endpoint());
            p.put("fs.s3a.connection.ssl.enabled", Boolean.toString(s.endpoint().toLowerCase(Locale.ROOT).startsWith("https:")));
        }
        if (!s.region().isEmpty()) {
            p.put("fs.s3a.endpoint.region", s.region());
        }
        if (!s.pathStyleAccess().isEmpty()) {
            p.put("fs.s3a.path.style.access", s.pathStyleAccess());
        }
        // Bounded retries (S3A's defaults: 7 invoker retries over up to 20 SDK attempts each, a 200 s socket timeout).
        p.put("fs.s3a.retry.limit", Integer.toString(s.retries()));
        p.put("fs.s3a.retry.interval", "1s");
        p.put("fs.s3a.attempts.maximum", "1");
        p.put("fs.s3a.connection.timeout", Long.toString(s.requestTimeout().toMillis()));
        if (!s.committer().equals("file")) {
            p.put("fs.s3a.committer.name", s.committer());
            p.put("fs.s3a.committer.magic.enabled", "true");
            p.put("mapreduce.outputcommitter.factory.scheme.s3a", "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory");
        }
        return p;
    }

    /** Spark SQL settings that route Parquet output through Hadoop's committer factory (spark-hadoop-cloud). */
    static Map<String, String> sqlSettings(StorageConfig s) {
        if (s.committer().equals("file")) {
            return Map.of();
        }
        return Map.of("spark.sql.sources.commitProtocolClass", "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
                "spark.sql.parquet.output.committer.class", "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter");
    }

    /**
     * Applies the settings to a running session (the driver's Hadoop configuration, which tasks receive, and the
     * Parquet committer) when any of {@code uris} is on s3a://, and runs the preflight check on each s3a:// one.
     */
    public static void configure(SparkSession spark, StorageConfig s, String... uris) {
        if (!configure(spark.sparkContext().hadoopConfiguration(), s, uris)) {
            return;
        }
        if (!s.committer().equals("file")) {
            try {
                Class.forName("org.apache.spark.internal.io.cloud.PathOutputCommitProtocol");
                sqlSettings(s).forEach((k, v) -> spark.conf().set(k, v));
            } catch (ClassNotFoundException e) {
                throw new StorageException("storage.s3a.committer = " + s.committer() + " needs spark-hadoop-cloud_2.12 on the "
                        + "classpath (spark-submit --packages org.apache.spark:spark-hadoop-cloud_2.12:<spark version>), "
                        + "or set storage.s3a.committer = file");
            }
        }
    }

    /**
     * The Hadoop side alone (for commands without a Spark session): sets the S3A properties on {@code hadoop} and
     * runs the preflight check on each s3a:// URI. Returns whether any URI is on s3a:// (nothing is done otherwise).
     */
    public static boolean configure(Configuration hadoop, StorageConfig s, String... uris) {
        boolean any = false;
        for (String uri : uris) {
            any |= isS3a(uri);
        }
        if (!any) {
            return false;
        }
        hadoopSettings(s).forEach(hadoop::set);
        LOG.info("S3A: endpoint {}, path-style {}, committer {}", hadoop.get("fs.s3a.endpoint", "(S3A default)"),
                hadoop.get("fs.s3a.path.style.access", "false"), s.committer());
        if (s.preflight()) {
            for (String uri : uris) {
                if (isS3a(uri)) {
                    preflight(uri, hadoop);
                }
            }
        }
        return true;
    }

    /**
     * Opens {@code uri}'s bucket with retries off and lists the path; a failure is rethrown as a
     * {@link StorageException} that says whether the credentials, the bucket or the endpoint is wrong.
     */
    public static void preflight(String uri, Configuration hadoop) {
        Configuration probe = new Configuration(hadoop);
        probe.setInt("fs.s3a.attempts.maximum", 1);
        probe.setInt("fs.s3a.retry.limit", 1);
        probe.set("fs.s3a.retry.interval", "100ms");
        probe.setInt("fs.s3a.retry.throttle.limit", 1);
        probe.set("fs.s3a.connection.establish.timeout", "5000");
        probe.set("fs.s3a.connection.timeout", "10000");
        probe.setInt("fs.s3a.bucket.probe", 2);
        Path path = new Path(uri);
        try (FileSystem fs = FileSystem.newInstance(URI.create(uri), probe)) {
            try {
                fs.listStatus(path);
            } catch (FileNotFoundException absent) {
                if (absent.getClass().getSimpleName().equals("UnknownStoreException")) {
                    throw absent;
                }
                // a warehouse that does not exist yet is fine: the bucket answered
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof StorageException se) {
                throw se;
            }
            throw new StorageException(explain(uri, endpointOf(probe), e), e);
        }
    }

    private static final java.util.regex.Pattern S3A_URI = java.util.regex.Pattern.compile("s3a://[^\\s,;()'\"`]+");
    private static final List<String> UNREACHABLE = List.of("Connection refused", "ConnectException",
            "connect timed out", "Unable to execute HTTP request", "SocketTimeoutException", "Connection reset",
            "NoHttpResponseException", "failed to respond", "ConnectTimeoutException");

    /**
     * When {@code failure} (from a stage, a Spark job or a task) comes from an S3 server that cannot be reached, the
     * one line to tell the user: which s3a:// URI, which endpoint, after how many retries, and what to do.
     * {@code hadoop} is the configuration the command used (for the endpoint and the retry limit).
     */
    public static Optional<String> outage(Throwable failure, Configuration hadoop) {
        java.util.regex.Matcher uri = S3A_URI.matcher(chain(failure));
        if (!unreachable(failure) || !uri.find()) {
            return Optional.empty();
        }
        Throwable root = rootOf(failure);
        return Optional.of(uri.group().replaceAll("[:.]+$", "") + ": the S3 server at " + endpointOf(hadoop) + " is unreachable ("
                + firstLine(root) + ") after " + hadoop.getInt("fs.s3a.retry.limit", 7) + " retries (storage.s3a.retries);"
                + " nothing was committed; run the same command again once the server is back (training resumes after"
                + " its last checkpoint)");
    }

    /** Whether {@code failure} says an s3a:// store could not be reached (refused, timed out, no response). */
    static boolean unreachable(Throwable failure) {
        String all = chain(failure);
        return all.contains("s3a://") && UNREACHABLE.stream().anyMatch(all::contains);
    }

    private static String chain(Throwable failure) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            text.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
        }
        return text.toString();
    }

    private static String endpointOf(Configuration conf) {
        String endpoint = conf.getTrimmed("fs.s3a.endpoint", "");
        return endpoint.isEmpty() ? "the default AWS endpoint" : endpoint;
    }

    /** One line naming what is wrong; built from error codes and exception types only, never from credentials. */
    static String explain(String uri, String endpoint, Throwable e) {
        String bucket = URI.create(uri).getHost();
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
        }
        String text = all.toString();
        if (text.contains("SignatureDoesNotMatch")) {
            return uri + ": the S3 server rejected the credentials: the secret key does not match the access key id"
                    + " (SignatureDoesNotMatch); check AWS_SECRET_ACCESS_KEY (or fs.s3a.secret.key)";
        }
        if (text.contains("InvalidAccessKeyId")) {
            return uri + ": the S3 server rejected the credentials: it does not know the access key id"
                    + " (InvalidAccessKeyId); check AWS_ACCESS_KEY_ID (or fs.s3a.access.key)";
        }
        if (text.contains("NoAuthWithAWSException") || text.contains("Unable to load AWS credentials")) {
            return uri + ": no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure"
                    + " fs.s3a.aws.credentials.provider";
        }
        if (text.contains("UnknownStoreException") || text.contains("NoSuchBucket")) {
            return uri + ": bucket '" + bucket + "' does not exist at " + endpoint + " (NoSuchBucket); create it"
                    + " or fix the bucket name";
        }
        if (text.contains("AccessDenied") || text.contains("403")) {
            return uri + ": access denied by the S3 server (403): the credentials were rejected or may not read"
                    + " bucket '" + bucket + "'";
        }
        if (text.contains("Connection refused") || text.contains("ConnectException") || text.contains("UnknownHost")
                || text.contains("connect timed out") || text.contains("Unable to execute HTTP request")) {
            return uri + ": cannot connect to the S3 endpoint " + endpoint + " (" + firstLine(rootOf(e)) + ");"
                    + " is the server running, and is storage.s3a.endpoint (fs.s3a.endpoint) right?";
        }
        return uri + ": S3 check failed: " + firstLine(rootOf(e));
    }

    private static Throwable rootOf(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    private static String firstLine(Throwable t) {
        String m = t.getMessage() == null ? "" : t.getMessage().lines().findFirst().orElse("");
        return t.getClass().getSimpleName() + (m.isEmpty() ? "" : ": " + m);
    }
}
