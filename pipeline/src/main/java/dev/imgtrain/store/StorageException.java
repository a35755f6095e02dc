package dev.imgtrain.store;

/** Object storage that cannot be used as configured; the message says whether credentials, bucket or endpoint. */
public final class StorageException extends RuntimeException {
    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
