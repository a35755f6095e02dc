package dev.imgtrain.model;

import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.store.DamagedFileException;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A model's SHA-256 is written beside it and checked on every read: a flipped bit or a cut file is named, never loaded. */
class ModelStoreTest {
    @TempDir
    java.nio.file.Path dir;
    private Warehouse warehouse;
    private MultiLayerNetwork network;
    private Path model;
    private java.nio.file.Path file;

    @BeforeEach
    void save() {
        warehouse = new Warehouse(dir.toString(), new Configuration());
        network = NetworkFactory.network(new ConfigLoader().withFlag("train.preset", "mnist-dense-32-16").load().model(),
                784, 10, 1);
        model = new Path(warehouse.root(), "runs/r/model.zip");
        ModelStore.save(warehouse, model, network);
        file = dir.resolve("runs/r/model.zip");
    }

    @Test
    void theDigestIsWrittenBesideTheModelAndChecksOut() throws Exception {
        String digest = Files.readString(dir.resolve("runs/r/model.zip.sha256"));
        assertEquals(ModelStore.sha256(Files.readAllBytes(file)) + "  model.zip\n", digest, "sha256sum's format");
        assertArrayEquals(network.params().toFloatVector(), ModelStore.load(warehouse, model).params().toFloatVector());
    }

    @Test
    void aFlippedBitIsCaughtByTheDigest() throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);
        Files.deleteIfExists(dir.resolve("runs/r/.model.zip.crc")); // as on S3: no checksum file of the file system
        DamagedFileException e = assertThrows(DamagedFileException.class, () -> ModelStore.load(warehouse, model));
        assertTrue(e.getMessage().startsWith(model + " is damaged: its SHA-256 is "), e.getMessage());
        assertTrue(e.getMessage().contains(" was recorded when it was written (model.zip.sha256; " + bytes.length
                + " bytes now)"), e.getMessage());
    }

    @Test
    void aFlippedBitIsCaughtByTheFileSystemsChecksumWhereThereIsOne() throws Exception {
        assertTrue(Files.exists(dir.resolve("runs/r/.model.zip.crc")), "a local warehouse keeps Hadoop's .crc files");
        byte[] bytes = Files.readAllBytes(file);
        bytes[100] ^= 0x01;
        Files.write(file, bytes);
        DamagedFileException e = assertThrows(DamagedFileException.class, () -> ModelStore.verify(warehouse, model));
        assertEquals(model + " is damaged: the file system's checksum of its bytes does not match (at byte 0): it changed"
                + " after it was written", e.getMessage());
    }

    @Test
    void aTruncatedModelWithoutADigestIsDamagedNotARawException() throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 3));
        Files.deleteIfExists(dir.resolve("runs/r/.model.zip.crc"));
        Files.delete(dir.resolve("runs/r/model.zip.sha256")); // a model from before digests were recorded
        Files.deleteIfExists(dir.resolve("runs/r/.model.zip.sha256.crc"));
        DamagedFileException e = assertThrows(DamagedFileException.class, () -> ModelStore.load(warehouse, model));
        assertTrue(e.getMessage().startsWith(model + " is damaged: it is not a readable model ("), e.getMessage());
    }
}
