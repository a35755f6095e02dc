package dev.imgtrain.datasets;

import dev.imgtrain.testing.ImageFixtures;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ImageFolderTest {
    private static FileSystem fs() throws Exception {
        return FileSystem.getLocal(new Configuration());
    }

    private static Path path(java.nio.file.Path p) {
        return new Path(p.toUri());
    }

    @Test
    void shapeAndSortedClassesComeFromTheFolders(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 2);
        DatasetSpec spec = ImageFolder.describe("shapes", fs(), path(tmp));
        assertEquals("shapes", spec.name());
        assertEquals(List.of("a", "b"), spec.classes());
        assertEquals(3, spec.height());
        assertEquals(4, spec.width());
        assertEquals(3, spec.channels());
    }

    @Test
    void oneTaskPerClassFolderWithRunningOffsets(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 3);
        DatasetSpec spec = ImageFolder.describe("shapes", fs(), path(tmp));
        List<DecodeTask> tasks = spec.format().plan(spec, fs(), path(tmp));
        assertEquals(List.of("train/a", "train/b", "test/a", "test/b"), tasks.stream().map(DecodeTask::key).toList());
        assertEquals(List.of(0, 3, 0, 1), tasks.stream().map(DecodeTask::offset).toList());
        assertEquals(List.of(0, 1, 0, 1), tasks.stream().map(DecodeTask::label).toList());
        assertEquals(List.of("train/b/img0.png", "train/b/img1.png", "train/b/img2.png"), tasks.get(1).files());
    }

    @Test
    void decodesToChannelPlanes(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 1);
        DatasetSpec spec = ImageFolder.describe("shapes", fs(), path(tmp));
        DecodeTask task = spec.format().plan(spec, fs(), path(tmp)).get(1);
        try (SplitDecoder decoder = spec.format().open(spec, task, fs(), path(tmp))) {
            Example e = decoder.next();
            assertEquals(1, e.label());
            assertEquals(1, e.index(), "ids run on across the class folders of a split");
            int x = 2;
            int y = 1;
            int i = y * 4 + x;
            assertEquals(x + 10, e.pixels()[i]);
            assertEquals(y + 10, e.pixels()[12 + i]);
            assertEquals(10, e.pixels()[24 + i]);
            assertNull(decoder.next());
            assertEquals("train/b/ (1 files)", decoder.sources().get(0).file());
        }
    }

    /** The message of the refusal, whether describing the folders (driver) or decoding them (tasks) finds it. */
    private static String failure(java.nio.file.Path tmp) throws Exception {
        return assertThrows(InvalidArchiveException.class, () -> {
            DatasetSpec spec = ImageFolder.describe("shapes", fs(), path(tmp));
            for (DecodeTask task : spec.format().plan(spec, fs(), path(tmp))) {
                try (SplitDecoder decoder = spec.format().open(spec, task, fs(), path(tmp))) {
                    while (decoder.next() != null) {
                        // consume
                    }
                }
            }
        }).getMessage();
    }

    @Test
    void anImageOfAnotherSizeIsNamed(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 2);
        ImageFixtures.png(tmp.resolve("train/b/odd.png"), 5, 3, false, 0);
        assertEquals("train/b/odd.png: image is 5x3x3, expected 4x3x3 like the first train image (width x height x channels)",
                failure(tmp));
    }

    @Test
    void aGreyImageAmongColourOnesIsNamed(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 2);
        ImageFixtures.png(tmp.resolve("test/a/grey.png"), 4, 3, true, 0);
        assertEquals("test/a/grey.png: image is 4x3x1, expected 4x3x3 like the first train image (width x height x channels)",
                failure(tmp));
    }

    @Test
    void aFileThatIsNoImage(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 2);
        Files.writeString(tmp.resolve("train/b/broken.png"), "not a png");
        assertEquals("train/b/broken.png: not a PNG or JPEG image", failure(tmp));
    }

    @Test
    void aFileWithAnotherExtension(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 2);
        Files.writeString(tmp.resolve("train/b/notes.txt"), "x");
        assertEquals("train/b/notes.txt: not a .png, .jpg or .jpeg file", failure(tmp));
    }

    @Test
    void anEmptyClassFolderIsNamed(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 2);
        Files.createDirectories(tmp.resolve("test/b-empty"));
        Files.createDirectories(tmp.resolve("train/b-empty"));
        assertEquals("train/b-empty: empty class folder: holds no .png or .jpg image", failure(tmp));
    }

    @Test
    void aTruncatedPngIsNamed(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 2);
        java.nio.file.Path png = ImageFixtures.png(tmp.resolve("train/b/cut.png"), 4, 3, false, 0);
        byte[] all = Files.readAllBytes(png);
        Files.write(png, java.util.Arrays.copyOf(all, all.length / 2));
        String message = failure(tmp);
        assertEquals(true, message.startsWith("train/b/cut.png: corrupt or truncated image ("), message);
    }

    @Test
    void aTruncatedJpegIsNamedThoughImageIoOnlyWarns(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 2);
        // Large enough that the cut falls inside the scan data (a cut in the headers is an IIOException instead).
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(64, 48, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.util.Random random = new java.util.Random(1);
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 64; x++) {
                image.setRGB(x, y, random.nextInt(1 << 24));
            }
        }
        java.io.ByteArrayOutputStream jpeg = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(image, "jpg", jpeg);
        byte[] all = jpeg.toByteArray();
        Files.write(tmp.resolve("test/a/cut.jpg"), java.util.Arrays.copyOf(all, all.length * 6 / 10));
        assertEquals("test/a/cut.jpg: corrupt or truncated JPEG image (Truncated File - Missing EOI marker)", failure(tmp));
    }

    @Test
    void aTestClassUnknownToTrain(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.folderSet(tmp, 1);
        ImageFixtures.png(tmp.resolve("test/c/x.png"), 4, 3, false, 0);
        assertEquals("test/c: class folder not in train/ (train classes: [a, b])",
                assertThrows(InvalidArchiveException.class, () -> ImageFolder.describe("s", fs(), path(tmp))).getMessage());
    }

    @Test
    void missingTestFolder(@TempDir java.nio.file.Path tmp) throws Exception {
        ImageFixtures.png(tmp.resolve("train/a/x.png"), 4, 3, false, 0);
        ImageFixtures.png(tmp.resolve("train/b/x.png"), 4, 3, false, 0);
        String message = assertThrows(InvalidArchiveException.class,
                () -> ImageFolder.describe("s", fs(), path(tmp))).getMessage();
        assertEquals(true, message.endsWith("/test: missing: an image folder dataset has train/<class>/ and test/<class>/ folders"),
                message);
    }
}
