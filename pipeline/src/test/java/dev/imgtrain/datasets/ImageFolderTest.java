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

    private static String failure(java.nio.file.Path tmp) throws Exception {
        DatasetSpec spec = ImageFolder.describe("shapes", fs(), path(tmp));
        return assertThrows(InvalidArchiveException.class, () -> {
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
