package dev.imgtrain.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Small synthetic IDX archives in MNIST's layout, written in a test's temporary directory. */
public final class IdxFixtures {
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";

    private IdxFixtures() {
    }

    /** Images file bytes (uncompressed): header then {@code count} images whose pixels encode (index, pixel). */
    public static byte[] images(int magic, int declared, int actual, int rows, int cols) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(magic);
            out.writeInt(declared);
            out.writeInt(rows);
            out.writeInt(cols);
            for (int i = 0; i < actual; i++) {
                for (int p = 0; p < rows * cols; p++) {
                    out.writeByte((i * 7 + p) & 0xFF);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** Labels file bytes (uncompressed): label of example i is i % 10. */
    public static byte[] labels(int magic, int declared, int actual) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(magic);
            out.writeInt(declared);
            for (int i = 0; i < actual; i++) {
                out.writeByte(i % 10);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    public static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(raw);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** A valid four-file MNIST-shaped archive directory with {@code train} and {@code test} 28x28 examples. */
    public static Path writeValidMnist(Path dir, int train, int test) throws IOException {
        Files.createDirectories(dir);
        write(dir, TRAIN_IMAGES, images(2051, train, train, 28, 28));
        write(dir, TRAIN_LABELS, labels(2049, train, train));
        write(dir, TEST_IMAGES, images(2051, test, test, 28, 28));
        write(dir, TEST_LABELS, labels(2049, test, test));
        return dir;
    }

    /** Writes {@code raw} gzipped as {@code dir/name}. */
    public static void write(Path dir, String name, byte[] raw) throws IOException {
        Files.write(dir.resolve(name), gzip(raw));
    }
}
