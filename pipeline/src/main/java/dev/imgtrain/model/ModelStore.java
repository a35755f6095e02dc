package dev.imgtrain.model;

import dev.imgtrain.store.DamagedFileException;
import dev.imgtrain.store.Warehouse;

import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Saves and loads DL4J models (ModelSerializer zip, updater state included) on any Hadoop file system, with their
 * integrity: the SHA-256 of a model's bytes is written beside it ({@code model.zip.sha256}, {@code sha256sum}'s format,
 * so {@code sha256sum -c} checks it too) before the model itself, and checked whenever it is read. That holds on every
 * file system, S3 included, where nothing else checks the bytes (S3A writes no checksum files). A model from before
 * digests were recorded (no {@code .sha256}) is read unchecked but for the file system's own checksums.
 */
public final class ModelStore {
    /** The digest file's suffix. */
    public static final String DIGEST = ".sha256";

    private ModelStore() {
    }

    public static void save(Warehouse warehouse, Path target, MultiLayerNetwork network) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 20);
        try {
            // The saved configuration names DL4J's own layers and updaters, so that model.zip loads without imgtrain's classes.
            NetworkFactory.portable(network.getLayerWiseConfigurations(), () -> {
                ModelSerializer.writeModel(network, bytes, true);
                return null;
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the model for " + target + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot serialise the model for " + target + ": " + e.getMessage(), e);
        }
        byte[] model = bytes.toByteArray();
        dev.imgtrain.store.DiskSpace.require(warehouse, target, target.getName(), model.length + 4096L);
        // The digest first: a model that exists has its digest beside it (a crash in between leaves only a digest).
        warehouse.writeAtomically(digestFile(target), (sha256(model) + "  " + target.getName() + "\n")
                .getBytes(StandardCharsets.UTF_8));
        warehouse.writeAtomically(target, model);
    }

    /** The model at {@code source}, checked first ({@link #verify}). */
    public static MultiLayerNetwork load(Warehouse warehouse, Path source) {
        byte[] bytes = verify(warehouse, source);
        try {
            return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), true);
        } catch (IOException | RuntimeException e) {
            throw new DamagedFileException(source + " is damaged: it is not a readable model (" + firstLine(e) + ")", e);
        }
    }

    /**
     * The bytes of the model at {@code source}, after checking them against the digest recorded beside it.
     *
     * @throws DamagedFileException when the digest differs, the file system's checksum fails, or the digest file is
     *                              unreadable
     */
    public static byte[] verify(Warehouse warehouse, Path source) {
        byte[] bytes;
        try (InputStream in = warehouse.fs().open(source)) {
            bytes = in.readAllBytes();
        } catch (ChecksumException e) {
            throw new DamagedFileException(source + " is damaged: the file system's checksum of its bytes does not match"
                    + " (at byte " + e.getPos() + "): it changed after it was written", e);
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": cannot read the model: " + firstLine(e), e);
        }
        Path digestFile = digestFile(source);
        if (!warehouse.exists(digestFile)) {
            return bytes; // written before digests were recorded
        }
        String recorded = new String(readDigest(warehouse, digestFile, source), StandardCharsets.UTF_8).trim();
        String expected = recorded.split("\\s+")[0];
        String actual = sha256(bytes);
        if (!expected.equals(actual)) {
            throw new DamagedFileException(source + " is damaged: its SHA-256 is " + actual + ", " + expected
                    + " was recorded when it was written (" + digestFile.getName() + "; " + bytes.length + " bytes now)");
        }
        return bytes;
    }

    private static byte[] readDigest(Warehouse warehouse, Path digestFile, Path source) {
        try (InputStream in = warehouse.fs().open(digestFile)) {
            return in.readAllBytes();
        } catch (ChecksumException e) {
            throw new DamagedFileException(digestFile + " is damaged (the file system's checksum failed), so " + source
                    + " cannot be checked", e);
        } catch (IOException e) {
            throw new UncheckedIOException(digestFile + ": cannot read: " + firstLine(e), e);
        }
    }

    /** {@code model.zip} -> {@code model.zip.sha256}. */
    public static Path digestFile(Path model) {
        return new Path(model.getParent(), model.getName() + DIGEST);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
