package dev.imgtrain.store;

/**
 * A committed file (a model, a checkpoint) whose bytes are not those written: its SHA-256 differs from the digest
 * recorded beside it, the file system's own checksum failed, or it is truncated. The message names the file and says
 * which, in words.
 */
public final class DamagedFileException extends RuntimeException {
    public DamagedFileException(String message) {
        super(message);
    }

    public DamagedFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
