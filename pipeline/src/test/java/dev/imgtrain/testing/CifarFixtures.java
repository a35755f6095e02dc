package dev.imgtrain.testing;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small synthetic CIFAR-10 binary archives (cifar-10-binary.tar.gz layout), built in memory. */
public final class CifarFixtures {
    public static final String PREFIX = "cifar-10-batches-bin/";
    public static final String META_TEXT = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";

    private CifarFixtures() {
    }

    /** Records of one batch file: record i has label (i + offset) % 10 and pixel p = (i * 3 + p) & 0xFF. */
    public static byte[] batch(int records, int offset) {
        byte[] out = new byte[records * 3073];
        for (int i = 0; i < records; i++) {
            out[i * 3073] = (byte) ((i + offset) % 10);
            for (int p = 0; p < 3072; p++) {
                out[i * 3073 + 1 + p] = (byte) ((i * 3 + p) & 0xFF);
            }
        }
        return out;
    }

    /** The members of a valid archive: five train batches of {@code perBatch} records, a test batch, the meta file. */
    public static Map<String, byte[]> validMembers(int perBatch, int test) {
        Map<String, byte[]> members = new LinkedHashMap<>();
        for (int b = 1; b <= 5; b++) {
            members.put(PREFIX + "data_batch_" + b + ".bin", batch(perBatch, b));
        }
        members.put(PREFIX + "test_batch.bin", batch(test, 0));
        members.put(PREFIX + "batches.meta.txt", META_TEXT.getBytes(StandardCharsets.UTF_8));
        return members;
    }

    /** A tar.gz of {@code members}, plus a symbolic link entry when {@code symlinkName} is not null. */
    public static byte[] archive(Map<String, byte[]> members, String symlinkName) {
        ByteArrayOutputStream tarBytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(tarBytes)) {
            tar.putArchiveEntry(new TarArchiveEntry(PREFIX));
            tar.closeArchiveEntry();
            for (Map.Entry<String, byte[]> m : members.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(m.getKey(), true);
                entry.setSize(m.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(m.getValue());
                tar.closeArchiveEntry();
            }
            if (symlinkName != null) {
                TarArchiveEntry link = new TarArchiveEntry(symlinkName, TarConstants.LF_SYMLINK);
                link.setLinkName("/etc/passwd");
                tar.putArchiveEntry(link);
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return IdxFixtures.gzip(tarBytes.toByteArray());
    }

    /**
     * A tar.gz that is only the header of one entry declaring {@code bytes} bytes (its data never follows): what the
     * start of a tar with a gigabytes-large member looks like to a reader.
     */
    public static byte[] archiveDeclaring(String name, long bytes) {
        TarArchiveEntry entry = new TarArchiveEntry(name, true);
        entry.setSize(bytes);
        byte[] header = new byte[512];
        entry.writeEntryHeader(header);
        return IdxFixtures.gzip(header);
    }

    /** A tar.gz of {@code count} empty files under the CIFAR-10 folder. */
    public static byte[] archiveOfEmptyEntries(int count) {
        ByteArrayOutputStream tarBytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(tarBytes)) {
            for (int i = 0; i < count; i++) {
                TarArchiveEntry entry = new TarArchiveEntry(PREFIX + "empty-" + i, true);
                entry.setSize(0);
                tar.putArchiveEntry(entry);
                tar.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return IdxFixtures.gzip(tarBytes.toByteArray());
    }
}
