package dev.imgtrain.datasets;

import java.util.List;

/**
 * Streams one split of an archive in an executor task, validating as it goes. {@link #next()} returns null only
 * after the whole input has been checked, so a task that finishes has read a valid split.
 */
public interface SplitDecoder extends AutoCloseable {
    /** The next example, or null at the end. Throws {@link InvalidArchiveException} on bad input. */
    Example next();

    /** The source files read, with size and sha256 of their stored bytes; valid once {@link #next()} returned null. */
    List<DatasetManifest.SourceFile> sources();

    /** Class names the archive itself declares (CIFAR-10's batches.meta.txt); empty when it declares none. */
    default List<String> classNames() {
        return List.of();
    }

    @Override
    void close() throws java.io.IOException;
}
