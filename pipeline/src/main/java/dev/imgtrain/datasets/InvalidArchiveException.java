package dev.imgtrain.datasets;

/**
 * An archive that cannot be ingested. The message starts with the file's name and says what is wrong and what was
 * expected, e.g. {@code t10k-images-idx3-ubyte.gz: magic number 2049, expected 2051 (IDX unsigned-byte 3-D images)}.
 * Thrown in executor tasks; Spark carries it back to the driver as the job failure's cause.
 */
public final class InvalidArchiveException extends RuntimeException {
    private final String file;

    public InvalidArchiveException(String file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public InvalidArchiveException(String file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The archive member or file name the problem is in. */
    public String file() {
        return file;
    }
}
