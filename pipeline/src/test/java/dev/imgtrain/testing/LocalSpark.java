package dev.imgtrain.testing;

import dev.imgtrain.train.SparkDefaults;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;

/** The local[2] session integration tests share (one per test class; stop it in @AfterAll). */
public final class LocalSpark {
    private LocalSpark() {
    }

    public static SparkSession start(String name) {
        SparkSession.Builder builder = SparkSession.builder()
                .master("local[2]")
                .appName(name)
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4");
        // As imgtrain's commands run (jobs' Stage.session).
        return SparkDefaults.apply(builder, new org.apache.spark.SparkConf(), "local[2]").getOrCreate();
    }

    /**
     * A warehouse at {@code dir} holding real MNIST ingested and preprocessed (2 features files), as the training
     * integration tests start from.
     */
    public static dev.imgtrain.store.Warehouse mnistWarehouse(SparkSession spark, Path dir) {
        dev.imgtrain.store.Warehouse warehouse = new dev.imgtrain.store.Warehouse(dir.toString(),
                spark.sparkContext().hadoopConfiguration());
        dev.imgtrain.ingest.IngestJob.run(spark, dev.imgtrain.datasets.DatasetSpec.MNIST, mnistDir().toString(), warehouse);
        dev.imgtrain.preprocess.PreprocessJob.run(spark, "mnist", warehouse, 2);
        return warehouse;
    }

    /** Real MNIST (fetched by the test command); fails, never skips, when it is absent. */
    public static Path mnistDir() {
        return realData("imgtrain.mnist.dir", "data/mnist", IdxFixtures.TRAIN_IMAGES, "deploy/local/fetch-mnist.sh");
    }

    /** Real Fashion-MNIST (../shared/datasets/fetch-fashion-mnist.sh, run by the test command). */
    public static Path fashionDir() {
        return realData("imgtrain.fashion.dir", "data/fashion-mnist", IdxFixtures.TRAIN_IMAGES,
                "../shared/datasets/fetch-fashion-mnist.sh");
    }

    /** Real CIFAR-10 binary archive (../shared/datasets/make-cifar10-archive.sh, run by the test command). */
    public static Path cifar10Dir() {
        return realData("imgtrain.cifar10.dir", "data/cifar10", "cifar-10-binary.tar.gz",
                "../shared/datasets/make-cifar10-archive.sh");
    }

    /** The real CIFAR-10 images as a class-per-folder JPEG tree (unpacked by deploy/local/test.sh). */
    public static Path cifar10JpegDir() {
        return realData("imgtrain.cifar10.jpeg.dir", "data/cifar10-jpeg", "train/airplane",
                "tar -xJf ../shared/datasets/cifar10-jpeg.tar.xz -C");
    }

    private static Path realData(String property, String fallback, String file, String script) {
        String dir = System.getProperty(property, fallback);
        Path path = Path.of(dir);
        if (!Files.exists(path.resolve(file))) {
            throw new IllegalStateException("real data not found: " + path.resolve(file).toAbsolutePath()
                    + "; run " + script + " " + dir + " (deploy/local/test.sh does)");
        }
        return path;
    }
}
