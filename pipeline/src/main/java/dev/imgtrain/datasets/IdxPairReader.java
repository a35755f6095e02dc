package dev.imgtrain.datasets;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Streams one split of an IDX dataset (MNIST, Fashion-MNIST): a gzipped images file (magic 2051, unsigned-byte 3-D)
 * and its gzipped labels file (magic 2049, unsigned-byte 1-D), record by record, validating as it goes: magic
 * numbers, image dimensions, equal counts, labels in range, and exact length (no missing and no trailing bytes).
 * Computes the SHA-256 of each compressed file on the way. Not thread-safe; one per task.
 */
public final class IdxPairReader implements SplitDecoder {
    public static final int IMAGES_MAGIC = 0x00000803;
    public static final int LABELS_MAGIC = 0x00000801;

    private final String imagesName;
    private final String labelsName;
    private final Source images;
    private final Source labels;
    private final int count;
    private final int rows;
    private final int cols;
    private final int classes;
    private int read;

    /**
     * Opens both files and validates their headers.
     *
     * @param expectedRows expected image height (28 for MNIST), {@code expectedCols} its width
     */
    public IdxPairReader(String imagesName, InputStream imagesRaw, String labelsName, InputStream labelsRaw,
                         int expectedRows, int expectedCols, int classes) {
        this.imagesName = imagesName;
        this.labelsName = labelsName;
        this.classes = classes;
        this.images = new Source(imagesName, imagesRaw);
        this.labels = new Source(labelsName, labelsRaw);
        int imagesMagic = images.readInt("magic number");
        if (imagesMagic != IMAGES_MAGIC) {
            throw new InvalidArchiveException(imagesName, "magic number " + imagesMagic + ", expected " + IMAGES_MAGIC
                    + " (IDX unsigned-byte 3-D images)");
        }
        int imageCount = images.readInt("image count");
        rows = images.readInt("row count");
        cols = images.readInt("column count");
        if (rows != expectedRows || cols != expectedCols) {
            throw new InvalidArchiveException(imagesName, "images are " + rows + "x" + cols + ", expected "
                    + expectedRows + "x" + expectedCols);
        }
        int labelsMagic = labels.readInt("magic number");
        if (labelsMagic != LABELS_MAGIC) {
            throw new InvalidArchiveException(labelsName, "magic number " + labelsMagic + ", expected " + LABELS_MAGIC
                    + " (IDX unsigned-byte 1-D labels)");
        }
        int labelCount = labels.readInt("label count");
        if (imageCount < 0 || labelCount < 0 || imageCount != labelCount) {
            throw new InvalidArchiveException(imagesName, "holds " + imageCount + " images but " + labelsName
                    + " holds " + labelCount + " labels; the counts must be equal");
        }
        if (imageCount > MAX_IMAGES) {
            // Read from the header, before any image: a gzip of gigabytes of zeros can declare a billion images.
            throw new InvalidArchiveException(imagesName, "header declares " + imageCount + " images, more than the "
                    + MAX_IMAGES + " an IDX archive of this kind holds (MNIST and Fashion-MNIST: 60000); refused before reading them");
        }
        this.count = imageCount;
    }

    /** Images an IDX pair may declare: ten times MNIST's training set. */
    static final int MAX_IMAGES = 600_000;

    /** Number of examples the headers declare. */
    public int count() {
        return count;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** The next example, or null after the last one (after checking that both files end exactly there). */
    @Override
    public Example next() {
        if (read == count) {
            images.expectEnd(count + " images of " + rows + "x" + cols);
            labels.expectEnd(count + " labels");
            return null;
        }
        int label = labels.readUnsignedByte(count, read);
        if (label >= classes) {
            throw new InvalidArchiveException(labelsName, "label " + label + " at index " + read + ", expected 0-"
                    + (classes - 1));
        }
        byte[] pixels = new byte[rows * cols];
        images.readFully(pixels, count, read);
        return new Example(read++, label, pixels);
    }

    @Override
    public List<DatasetManifest.SourceFile> sources() {
        return List.of(new DatasetManifest.SourceFile(imagesName, images.raw.bytes(), images.raw.sha256()),
                new DatasetManifest.SourceFile(labelsName, labels.raw.bytes(), labels.raw.sha256()));
    }

    @Override
    public void close() throws IOException {
        try {
            images.in.close();
        } finally {
            labels.in.close();
        }
    }

    /** One gzipped IDX file: the raw bytes digested and counted, the gunzipped bytes read. */
    private static final class Source {
        private final String name;
        private final CountingDigest raw;
        private final DataInputStream in;

        Source(String name, InputStream rawStream) {
            this.name = name;
            this.raw = new CountingDigest(rawStream);
            try {
                this.in = new DataInputStream(new BufferedInputStream(new GZIPInputStream(raw.stream(), 1 << 16), 1 << 16));
            } catch (ZipException e) {
                throw new InvalidArchiveException(name, "not a gzip file (" + e.getMessage() + ")", e);
            } catch (EOFException e) {
                throw new InvalidArchiveException(name, "empty or truncated gzip file", e);
            } catch (IOException e) {
                throw new InvalidArchiveException(name, "cannot be read: " + e.getMessage(), e);
            }
        }

        int readInt(String what) {
            try {
                return in.readInt();
            } catch (EOFException e) {
                throw new InvalidArchiveException(name, "ends inside the IDX header (reading the " + what + ")", e);
            } catch (IOException e) {
                throw damaged(e);
            }
        }

        int readUnsignedByte(int count, int index) {
            try {
                return in.readUnsignedByte();
            } catch (EOFException e) {
                throw truncated(count, index, e);
            } catch (IOException e) {
                throw damaged(e);
            }
        }

        void readFully(byte[] buffer, int count, int index) {
            try {
                in.readFully(buffer);
            } catch (EOFException e) {
                throw truncated(count, index, e);
            } catch (IOException e) {
                throw damaged(e);
            }
        }

        void expectEnd(String declared) {
            try {
                if (in.read() != -1) {
                    throw new InvalidArchiveException(name, "has bytes after the " + declared
                            + " its header declares");
                }
                raw.drain();
            } catch (IOException e) {
                throw damaged(e);
            }
        }

        private InvalidArchiveException truncated(int count, int index, EOFException e) {
            return new InvalidArchiveException(name, "truncated: header declares " + count
                    + " records, data ends at record " + index, e);
        }

        private InvalidArchiveException damaged(IOException e) {
            if (e instanceof ZipException) {
                return new InvalidArchiveException(name, "corrupt gzip data (" + e.getMessage() + ")", e);
            }
            return new InvalidArchiveException(name, "cannot be read: " + e.getMessage(), e);
        }
    }
}
