package dev.imgtrain.config;

/** A configuration key or value that cannot be used; the message names the key, the value and what is valid. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
