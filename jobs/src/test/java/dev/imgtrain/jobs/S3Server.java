package dev.imgtrain.jobs;

import dev.imgtrain.store.ObjectStorage;
import dev.imgtrain.config.PipelineConfig;
import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The project's S3 server (S3Proxy) for a test class, started and stopped with deploy/s3/start.sh and stop.sh on a
 * free loopback port, with the AWS_* credentials of the test JVM's environment (set by failsafe) and its own data
 * directory, so it starts from empty buckets.
 */
final class S3Server implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("imgtrain.root", ".."));

    final int port;
    final Path dir;
    private final String[] buckets;

    private S3Server(int port, Path dir, String[] buckets) {
        this.port = port;
        this.dir = dir;
        this.buckets = buckets;
    }

    static S3Server start(String... buckets) throws Exception {
        int port = dev.imgtrain.testing.Loopback.freePort();
        Path dir = Path.of(System.getProperty("imgtrain.s3.dir", "target/s3")).toAbsolutePath();
        S3Server server = new S3Server(port, dir, buckets);
        deleteData(dir.resolve("data"));
        server.resume();
        return server;
    }

    /** Stops the server process, keeping its data (an outage). */
    void halt() throws Exception {
        script("stop.sh", Map.of());
    }

    /** Starts the server again on its port, with the data it had. */
    void resume() throws Exception {
        script("start.sh", Map.of("IMGTRAIN_S3_BUCKETS", String.join(" ", buckets)));
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** An imgtrain command line with {@link #settings()} after {@code args} (a list the caller may add to). */
    List<String> command(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(args));
        command.addAll(settings());
        return command;
    }

    /** The --set flags that point imgtrain at this server. */
    List<String> settings() {
        return List.of("--set", "storage.s3a.endpoint=" + endpoint(), "--set", "storage.s3a.path-style-access=true",
                "--set", "storage.s3a.region=us-east-1");
    }

    /** A Hadoop configuration for reading the bucket from the test itself. */
    Configuration hadoop() {
        Configuration conf = new Configuration();
        ObjectStorage.hadoopSettings(new PipelineConfig.StorageConfig(endpoint(), "us-east-1", "true", "magic", true))
                .forEach(conf::set);
        return conf;
    }

    private void script(String name, Map<String, String> extra) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", ROOT.resolve("deploy/s3/" + name).toString())
                .redirectErrorStream(true);
        pb.environment().put("IMGTRAIN_S3_DIR", dir.toString());
        pb.environment().put("IMGTRAIN_S3_PORT", Integer.toString(port));
        pb.environment().putAll(extra);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("deploy/s3/" + name + " failed: " + out);
        }
    }

    private static void deleteData(Path data) throws IOException {
        if (Files.exists(data)) {
            try (var walk = Files.walk(data)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    @Override
    public void close() throws Exception {
        script("stop.sh", Map.of());
    }
}
