package dev.imgtrain.datasets;

import dev.imgtrain.testing.CifarFixtures;
import dev.imgtrain.testing.IdxFixtures;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.imgtrain.testing.CifarFixtures.PREFIX;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Cifar10ArchiveTest {
    private static final String ARCHIVE = "cifar-10-binary.tar.gz";

    private static List<Example> readAll(byte[] archive, String split) throws Exception {
        try (Cifar10Archive reader = new Cifar10Archive(ARCHIVE, new ByteArrayInputStream(archive), split)) {
            List<Example> all = new ArrayList<>();
            for (Example e = reader.next(); e != null; e = reader.next()) {
                all.add(e);
            }
            return all;
        }
    }

    private static String failure(byte[] archive) {
        return assertThrows(InvalidArchiveException.class, () -> readAll(archive, "train")).getMessage();
    }

    @Test
    void trainIsTheFiveDataBatchesInOrderAndTestIsTestBatch() throws Exception {
        byte[] archive = CifarFixtures.archive(CifarFixtures.validMembers(3, 4), null);
        List<Example> train = readAll(archive, "train");
        assertEquals(15, train.size());
        assertEquals(List.of(1, 2, 3, 2, 3, 4), train.subList(0, 6).stream().map(Example::label).toList());
        assertEquals(14, train.get(14).index());
        byte[] expected = Arrays.copyOfRange(CifarFixtures.batch(3, 1), 3073 + 1, 2 * 3073);
        assertArrayEquals(expected, train.get(1).pixels(), "3,072 pixel bytes kept in the archive's plane order");
        assertEquals(4, readAll(archive, "test").size());
    }

    @Test
    void bothSplitsInOnePassAreEachSplitsExamplesNamedAndNumberedAsWhenReadAlone() throws Exception {
        byte[] archive = CifarFixtures.archive(CifarFixtures.validMembers(3, 4), null);
        List<Example> both = readAll(archive, Cifar10Archive.BOTH);
        for (String split : List.of("train", "test")) {
            List<Example> alone = readAll(archive, split);
            List<Example> named = both.stream().filter(e -> split.equals(e.split())).toList();
            assertEquals(alone.size(), named.size(), split);
            for (int i = 0; i < alone.size(); i++) {
                assertEquals(alone.get(i).index(), named.get(i).index(), split + " " + i);
                assertEquals(alone.get(i).label(), named.get(i).label(), split + " " + i);
                assertArrayEquals(alone.get(i).pixels(), named.get(i).pixels(), split + " " + i);
            }
        }
        assertEquals(19, both.size());
        assertEquals(null, readAll(archive, "train").get(0).split(), "a one-split reader leaves the split to its task");
    }

    @Test
    void classNamesAndChecksumComeFromTheArchive() throws Exception {
        byte[] archive = CifarFixtures.archive(CifarFixtures.validMembers(1, 1), null);
        try (Cifar10Archive reader = new Cifar10Archive(ARCHIVE, new ByteArrayInputStream(archive), "test")) {
            while (reader.next() != null) {
                // consume
            }
            assertEquals(List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
                    reader.classNames());
            assertEquals(archive.length, reader.sources().get(0).bytes());
            assertEquals(64, reader.sources().get(0).sha256().length());
        }
    }

    @Test
    void memberWithATruncatedRecord() {
        Map<String, byte[]> members = CifarFixtures.validMembers(3, 2);
        members.put(PREFIX + "data_batch_2.bin", Arrays.copyOf(CifarFixtures.batch(3, 0), 3 * 3073 - 100));
        assertEquals(ARCHIVE + ": " + PREFIX + "data_batch_2.bin: 9119 bytes is not a multiple of 3073 "
                + "(1 label byte + 3072 pixel bytes per record)", failure(CifarFixtures.archive(members, null)));
    }

    @Test
    void aMemberOfGigabytesIsRefusedFromItsHeader() {
        assertEquals(ARCHIVE + ": entry '" + PREFIX + "data_batch_1.bin' declares 6146000000 bytes, more than the 30730000"
                        + " of a CIFAR-10 batch (10,000 records of 3073 bytes); refused before reading it",
                failure(CifarFixtures.archiveDeclaring(PREFIX + "data_batch_1.bin", 2_000_000L * 3073)));
        assertTrue(failure(CifarFixtures.archiveDeclaring(PREFIX + "zeros", 7L << 30)).contains("entry '" + PREFIX
                + "zeros' declares 7516192768 bytes"), "a member no split reads is not skipped through either");
    }

    @Test
    void aMillionTinyEntriesAreRefusedAfterTheSixtyFifth() {
        assertEquals(ARCHIVE + ": more than 64 entries (CIFAR-10 has 9); refused before reading them",
                failure(CifarFixtures.archiveOfEmptyEntries(1000)));
    }

    @Test
    void label10() {
        Map<String, byte[]> members = CifarFixtures.validMembers(3, 2);
        byte[] batch = CifarFixtures.batch(3, 0);
        batch[2 * 3073] = 10;
        members.put(PREFIX + "data_batch_4.bin", batch);
        assertEquals(ARCHIVE + ": " + PREFIX + "data_batch_4.bin: label 10 at record 2, expected 0-9",
                failure(CifarFixtures.archive(members, null)));
    }

    @Test
    void missingDataBatch3() {
        Map<String, byte[]> members = CifarFixtures.validMembers(2, 2);
        members.remove(PREFIX + "data_batch_3.bin");
        assertEquals(ARCHIVE + ": member " + PREFIX + "data_batch_3.bin is missing",
                failure(CifarFixtures.archive(members, null)));
    }

    @Test
    void missingMemberIsFoundByTheTestSplitToo() {
        Map<String, byte[]> members = CifarFixtures.validMembers(2, 2);
        members.remove(PREFIX + "data_batch_3.bin");
        assertEquals(ARCHIVE + ": member " + PREFIX + "data_batch_3.bin is missing",
                assertThrows(InvalidArchiveException.class,
                        () -> readAll(CifarFixtures.archive(members, null), "test")).getMessage());
    }

    @Test
    void entryEscapingTheDirectory() {
        Map<String, byte[]> members = CifarFixtures.validMembers(1, 1);
        members.put("../x", new byte[]{1, 2, 3});
        assertEquals(ARCHIVE + ": entry '../x' is outside " + PREFIX, failure(CifarFixtures.archive(members, null)));
    }

    @Test
    void entryOutsideTheDirectory() {
        Map<String, byte[]> members = CifarFixtures.validMembers(1, 1);
        members.put("readme.txt", new byte[]{1});
        assertEquals(ARCHIVE + ": entry 'readme.txt' is outside " + PREFIX, failure(CifarFixtures.archive(members, null)));
    }

    @Test
    void symlinkEntry() {
        byte[] archive = CifarFixtures.archive(CifarFixtures.validMembers(1, 1), PREFIX + "data_batch_6.bin");
        assertEquals(ARCHIVE + ": entry '" + PREFIX + "data_batch_6.bin' is a symbolic link; links are not allowed",
                failure(archive));
    }

    @Test
    void gzipThatHoldsNoTar() {
        byte[] notTar = IdxFixtures.gzip("just some text, not a tar archive\n".repeat(40).getBytes());
        String message = failure(notTar);
        assertEquals(ARCHIVE + ": the gzip stream holds no tar archive", message.replaceAll(" \\(.*\\)$", ""));
    }

    @Test
    void notGzipAtAll() {
        assertEquals(ARCHIVE + ": not a gzip file (Not in GZIP format)", failure("plain".repeat(10).getBytes()));
    }

    @Test
    void archiveCutShort() {
        byte[] archive = CifarFixtures.archive(CifarFixtures.validMembers(20, 2), null);
        String message = failure(Arrays.copyOf(archive, archive.length / 2));
        assertEquals(true, message.startsWith(ARCHIVE + ": "), message);
        assertEquals(true, message.contains("truncated"), message);
    }
}
