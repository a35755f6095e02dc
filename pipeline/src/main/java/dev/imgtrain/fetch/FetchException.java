package dev.imgtrain.fetch;

/** A dataset fetch that failed; the message names the file or host and says what to do. */
public final class FetchException extends RuntimeException {
    public FetchException(String message) {
        super(message);
    }
}
