package dev.imgtrain.datasets;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static dev.imgtrain.testing.IdxFixtures.gzip;
import static dev.imgtrain.testing.IdxFixtures.images;
import static dev.imgtrain.testing.IdxFixtures.labels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class IdxPairReaderTest {
    private static final String IMAGES = "t10k-images-idx3-ubyte.gz";
    private static final String LABELS = "t10k-labels-idx1-ubyte.gz";

    private static IdxPairReader reader(byte[] imagesGz, byte[] labelsGz) {
        return new IdxPairReader(IMAGES, new ByteArrayInputStream(imagesGz), LABELS, new ByteArrayInputStream(labelsGz),
                28, 28, 10);
    }

    private static void readAll(IdxPairReader reader) {
        while (reader.next() != null) {
            // consume
        }
    }

    private static String failure(byte[] imagesGz, byte[] labelsGz) {
        return assertThrows(InvalidArchiveException.class, () -> readAll(reader(imagesGz, labelsGz))).getMessage();
    }

    @Test
    void readsEveryExampleInOrderAndChecksumsTheCompressedFiles() throws Exception {
        byte[] imagesGz = gzip(images(2051, 25, 25, 28, 28));
        byte[] labelsGz = gzip(labels(2049, 25, 25));
        IdxPairReader reader = reader(imagesGz, labelsGz);
        assertEquals(25, reader.count());
        for (int i = 0; i < 25; i++) {
            Example e = reader.next();
            assertEquals(i, e.index());
            assertEquals(i % 10, e.label());
            assertEquals(784, e.pixels().length);
            assertEquals((byte) ((i * 7 + 300) & 0xFF), e.pixels()[300]);
        }
        assertNull(reader.next());
        assertEquals(List.of(
                new DatasetManifest.SourceFile(IMAGES, imagesGz.length, sha256(imagesGz)),
                new DatasetManifest.SourceFile(LABELS, labelsGz.length, sha256(labelsGz))), reader.sources());
        reader.close();
    }

    @Test
    void wrongImagesMagicNamesTheFileAndBothNumbers() {
        assertEquals(IMAGES + ": magic number 2049, expected 2051 (IDX unsigned-byte 3-D images)",
                failure(gzip(images(2049, 3, 3, 28, 28)), gzip(labels(2049, 3, 3))));
    }

    @Test
    void aBillionDeclaredImagesAreRefusedFromTheHeader() {
        // The header alone (a gzip of gigabytes of zeros would follow it): refused before any image is read.
        assertEquals(IMAGES + ": header declares 1000000000 images, more than the 600000 an IDX archive of this kind"
                        + " holds (MNIST and Fashion-MNIST: 60000); refused before reading them",
                failure(gzip(images(2051, 1_000_000_000, 0, 28, 28)), gzip(labels(2049, 1_000_000_000, 0))));
    }

    @Test
    void trailingGigabytesAreRefusedAtTheirFirstByte() {
        byte[] images = images(2051, 3, 3, 28, 28);
        byte[] padded = Arrays.copyOf(images, images.length + (1 << 20)); // the reader stops at the first extra byte
        assertEquals(IMAGES + ": has bytes after the 3 images of 28x28 its header declares",
                failure(gzip(padded), gzip(labels(2049, 3, 3))));
    }

    @Test
    void wrongLabelsMagic() {
        assertEquals(LABELS + ": magic number 2051, expected 2049 (IDX unsigned-byte 1-D labels)",
                failure(gzip(images(2051, 3, 3, 28, 28)), gzip(labels(2051, 3, 3))));
    }

    @Test
    void truncatedImagesPayload() {
        byte[] full = images(2051, 5, 5, 28, 28);
        byte[] cut = Arrays.copyOf(full, full.length - 100);
        assertEquals(IMAGES + ": truncated: header declares 5 records, data ends at record 4",
                failure(gzip(cut), gzip(labels(2049, 5, 5))));
    }

    @Test
    void truncatedLabelsPayload() {
        assertEquals(LABELS + ": truncated: header declares 5 records, data ends at record 3",
                failure(gzip(images(2051, 5, 5, 28, 28)), gzip(labels(2049, 5, 3))));
    }

    @Test
    void truncatedGzipStream() {
        byte[] gz = gzip(images(2051, 5, 5, 28, 28));
        String message = failure(Arrays.copyOf(gz, gz.length / 2), gzip(labels(2049, 5, 5)));
        assertEquals(IMAGES + ": truncated: header declares 5 records, data ends at record ", message.replaceAll("\\d+$", ""));
    }

    @Test
    void imageAndLabelCountsMustMatch() {
        assertEquals(IMAGES + ": holds 5 images but " + LABELS + " holds 4 labels; the counts must be equal",
                failure(gzip(images(2051, 5, 5, 28, 28)), gzip(labels(2049, 4, 4))));
    }

    @Test
    void labelOutOfRange() {
        byte[] raw = labels(2049, 5, 5);
        raw[8 + 2] = 11;
        assertEquals(LABELS + ": label 11 at index 2, expected 0-9", failure(gzip(images(2051, 5, 5, 28, 28)), gzip(raw)));
    }

    @Test
    void notGzip() {
        assertEquals(IMAGES + ": not a gzip file (Not in GZIP format)",
                failure(images(2051, 5, 5, 28, 28), gzip(labels(2049, 5, 5))));
    }

    @Test
    void emptyFile() {
        assertEquals(LABELS + ": empty or truncated gzip file", failure(gzip(images(2051, 5, 5, 28, 28)), new byte[0]));
    }

    @Test
    void trailingBytesAfterTheDeclaredRecords() {
        assertEquals(IMAGES + ": has bytes after the 5 images of 28x28 its header declares",
                failure(gzip(images(2051, 5, 6, 28, 28)), gzip(labels(2049, 5, 5))));
    }

    @Test
    void wrongDimensions() {
        assertEquals(IMAGES + ": images are 32x32, expected 28x28",
                failure(gzip(images(2051, 5, 5, 32, 32)), gzip(labels(2049, 5, 5))));
    }

    @Test
    void headerCutShort() {
        byte[] header = Arrays.copyOf(images(2051, 5, 5, 28, 28), 6);
        assertEquals(IMAGES + ": ends inside the IDX header (reading the image count)",
                failure(gzip(header), gzip(labels(2049, 5, 5))));
    }

    @Test
    void pixelsAreKeptAsWritten() {
        byte[] raw = images(2051, 1, 1, 28, 28);
        IdxPairReader reader = reader(gzip(raw), gzip(labels(2049, 1, 1)));
        assertArrayEquals(Arrays.copyOfRange(raw, 16, 16 + 784), reader.next().pixels());
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
