package dev.imgtrain.testing;

import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;

/** The local[2] session integration tests share (one per test class; stop it in @AfterAll). */
public final class LocalSpark {
    private LocalSpark() {
    }

    public static SparkSession start(String name) {
        return SparkSession.builder()
                .master("local[2]")
                .appName(name)
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }

    /** Real MNIST (fetched by the test command); fails, never skips, when it is absent. */
    public static Path mnistDir() {
        String dir = System.getProperty("imgtrain.mnist.dir", "data/mnist");
        Path path = Path.of(dir);
        if (!Files.isRegularFile(path.resolve(IdxFixtures.TRAIN_IMAGES))) {
            throw new IllegalStateException("real MNIST not found in " + path.toAbsolutePath()
                    + ": run deploy/local/fetch-mnist.sh " + dir + " (the test command does)");
        }
        return path;
    }
}
