package dev.imgtrain.datasets;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Streams one split out of the official CIFAR-10 binary archive ({@code cifar-10-binary.tar.gz}), without
 * extracting it: {@code cifar-10-batches-bin/data_batch_1..5.bin} are split train, {@code test_batch.bin} split test,
 * class names come from {@code batches.meta.txt}. Each record is 1 label byte and 3,072 pixel bytes (1,024 R, then G,
 * then B, each plane row-major), kept in that order.
 *
 * <p>Every task reads the whole archive and checks all of it: each expected member present, member sizes a multiple
 * of 3,073, labels 0-9, no entry outside {@code cifar-10-batches-bin/}, no links. Problems name the entry.
 */
public final class Cifar10Archive implements SplitDecoder {
    public static final String ARCHIVE = "cifar-10-binary.tar.gz";
    public static final String PREFIX = "cifar-10-batches-bin/";
    public static final String META = PREFIX + "batches.meta.txt";
    public static final int IMAGE_BYTES = 32 * 32 * 3;
    public static final int RECORD_BYTES = 1 + IMAGE_BYTES;
    static final List<String> TRAIN = List.of(PREFIX + "data_batch_1.bin", PREFIX + "data_batch_2.bin",
            PREFIX + "data_batch_3.bin", PREFIX + "data_batch_4.bin", PREFIX + "data_batch_5.bin");
    static final List<String> TEST = List.of(PREFIX + "test_batch.bin");
    /** The split name that reads train and test in one pass. */
    public static final String BOTH = "train+test";

    private final String archiveName;
    private final CountingDigest raw;
    private final TarArchiveInputStream tar;
    private final List<String> wanted;
    private final boolean bothSplits;
    private final Set<String> seen = new LinkedHashSet<>();
    private int entries;
    private final List<String> classNames = new ArrayList<>();
    private final byte[] record = new byte[RECORD_BYTES];
    private String member;
    private long recordsLeft;
    private long recordInMember;
    private int trainIndex;
    private int testIndex;
    private boolean finished;

    /**
     * Opens the archive for {@code split}: "train", "test", or {@link #BOTH} (every example once, in archive order,
     * each {@link Example} naming its split: one pass over the archive instead of one per split).
     */
    public Cifar10Archive(String archiveName, InputStream in, String split) {
        this.archiveName = archiveName;
        this.wanted = switch (split) {
            case "train" -> TRAIN;
            case "test" -> TEST;
            case BOTH -> concat(TRAIN, TEST, List.of());
            default -> throw new IllegalArgumentException("CIFAR-10 has no split '" + split + "'");
        };
        this.bothSplits = BOTH.equals(split);
        this.raw = new CountingDigest(in);
        try {
            this.tar = new TarArchiveInputStream(new GZIPInputStream(raw.stream(), 1 << 16));
        } catch (ZipException e) {
            throw invalid("not a gzip file (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            throw invalid("empty or truncated gzip file", e);
        } catch (IOException e) {
            throw invalid("cannot be read: " + e.getMessage(), e);
        }
    }

    @Override
    public Example next() {
        try {
            while (recordsLeft == 0) {
                if (finished || !advanceToWantedMember()) {
                    finish();
                    return null;
                }
            }
            readRecord();
            recordsLeft--;
            int label = record[0] & 0xFF;
            if (label > 9) {
                throw invalid(member + ": label " + label + " at record " + recordInMember + ", expected 0-9", null);
            }
            recordInMember++;
            byte[] pixels = new byte[IMAGE_BYTES];
            System.arraycopy(record, 1, pixels, 0, IMAGE_BYTES);
            boolean test = TEST.contains(member);
            int index = test ? testIndex++ : trainIndex++;
            return new Example(index, label, pixels, bothSplits ? (test ? "test" : "train") : null);
        } catch (IOException e) {
            throw invalid("corrupt archive (" + e.getMessage() + ")", e);
        }
    }

    /** Moves to the next member of this split, checking every entry on the way; false at the end of the archive. */
    private boolean advanceToWantedMember() throws IOException {
        while (true) {
            TarArchiveEntry entry;
            try {
                entry = tar.getNextTarEntry();
            } catch (ZipException | EOFException e) {
                throw invalid("truncated or corrupt gzip data (" + e.getMessage() + ")", e);
            } catch (IOException e) {
                throw invalid("the gzip stream holds no tar archive (" + e.getMessage() + ")", e);
            }
            if (entry == null) {
                if (seen.isEmpty()) {
                    throw invalid("the gzip stream holds no tar archive (no entries)", null);
                }
                return false;
            }
            String name = check(entry);
            if (entry.isDirectory()) {
                continue;
            }
            seen.add(name);
            if (name.equals(META)) {
                readMeta();
            } else if (name.endsWith(".bin")) {
                if (entry.getSize() % RECORD_BYTES != 0) {
                    throw invalid(name + ": " + entry.getSize() + " bytes is not a multiple of " + RECORD_BYTES
                            + " (1 label byte + 3072 pixel bytes per record)", null);
                }
                if (wanted.contains(name)) {
                    member = name;
                    recordsLeft = entry.getSize() / RECORD_BYTES;
                    recordInMember = 0;
                    if (recordsLeft > 0) {
                        return true;
                    }
                }
            }
        }
    }

    /** The largest member a CIFAR-10 archive has: a batch of 10,000 records. Larger ones are refused from their header. */
    static final long MAX_MEMBER_BYTES = 10_000L * RECORD_BYTES;
    /** Entries a CIFAR-10 archive can have (it has 9: the folder, 6 batches, the meta file, a readme). */
    static final int MAX_ENTRIES = 64;

    private String check(TarArchiveEntry entry) {
        String name = entry.getName();
        // From the entry's header, before its data is read or skipped: an archive that expands far past what a
        // CIFAR-10 archive holds is refused in the time it takes to read a header.
        if (++entries > MAX_ENTRIES) {
            throw invalid("more than " + MAX_ENTRIES + " entries (CIFAR-10 has 9); refused before reading them", null);
        }
        if (entry.getSize() > MAX_MEMBER_BYTES) {
            throw invalid("entry '" + name + "' declares " + entry.getSize() + " bytes, more than the " + MAX_MEMBER_BYTES
                    + " of a CIFAR-10 batch (10,000 records of 3073 bytes); refused before reading it", null);
        }
        if (entry.isSymbolicLink() || entry.isLink()) {
            throw invalid("entry '" + name + "' is a " + (entry.isSymbolicLink() ? "symbolic" : "hard")
                    + " link; links are not allowed", null);
        }
        boolean escapes = name.startsWith("/") || List.of(name.split("/")).contains("..");
        if (escapes || !(name.startsWith(PREFIX) || name.equals(PREFIX.substring(0, PREFIX.length() - 1)))) {
            throw invalid("entry '" + name + "' is outside " + PREFIX, null);
        }
        if (!entry.isDirectory() && !entry.isFile()) {
            throw invalid("entry '" + name + "' is not a regular file", null);
        }
        return name;
    }

    private void readRecord() {
        int off = 0;
        while (off < RECORD_BYTES) {
            int n;
            try {
                n = tar.read(record, off, RECORD_BYTES - off);
            } catch (IOException e) {
                throw invalid(member + ": truncated at record " + recordInMember + " (" + e.getMessage() + ")", e);
            }
            if (n < 0) {
                throw invalid(member + ": truncated at record " + recordInMember + " (the archive ends inside it)", null);
            }
            off += n;
        }
    }

    private void readMeta() throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(tar, StandardCharsets.UTF_8));
        classNames.clear();
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            if (!line.isBlank()) {
                classNames.add(line.strip());
            }
        }
        if (classNames.size() != 10) {
            throw invalid(META + ": " + classNames.size() + " class names, expected 10", null);
        }
    }

    private void finish() throws IOException {
        if (!finished) {
            finished = true;
            for (String expected : concat(TRAIN, TEST, List.of(META))) {
                if (!seen.contains(expected)) {
                    throw invalid("member " + expected + " is missing", null);
                }
            }
            raw.drain();
        }
    }

    @Override
    public List<DatasetManifest.SourceFile> sources() {
        return List.of(new DatasetManifest.SourceFile(archiveName, raw.bytes(), raw.sha256()));
    }

    @Override
    public List<String> classNames() {
        return List.copyOf(classNames);
    }

    @Override
    public void close() throws IOException {
        tar.close();
    }

    private InvalidArchiveException invalid(String problem, Throwable cause) {
        return new InvalidArchiveException(archiveName, problem, cause);
    }

    private static List<String> concat(List<String> a, List<String> b, List<String> c) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        all.addAll(c);
        return all;
    }
}
