package dev.imgtrain.datasets;

import java.util.List;
import java.util.Map;

/**
 * {@code <warehouse>/datasets/<name>/_dataset.json}: written last by ingest, so its presence means the raw table is
 * complete. Training copies {@link #sources} (with checksums) into each run's params.json.
 *
 * @param shape        [height, width, channels]
 * @param pixelLayout  how a raw image's bytes are ordered
 * @param counts       examples per split
 * @param classCounts  examples per class name, per split
 */
public record DatasetManifest(String name, List<Integer> shape, String pixelLayout, List<String> classes,
                              Map<String, Long> counts, Map<String, Map<String, Long>> classCounts,
                              List<SourceFile> sources, String ingestedAt) {

    /** One archive file read by ingest. */
    public record SourceFile(String file, long bytes, String sha256) implements java.io.Serializable {
    }

    public int features() {
        return shape.stream().reduce(1, (a, b) -> a * b);
    }

    public int numClasses() {
        return classes.size();
    }
}
