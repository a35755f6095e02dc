package dev.imgtrain.datasets;

import java.io.Serializable;
import java.util.List;

/**
 * One executor task's share of an ingest: a whole split of an archive, or one class folder of an image set.
 *
 * @param key    what the task reads, for messages and the manifest (a split name, or "train/cat")
 * @param offset id of the task's first example within its split
 * @param files  the files to read, relative to the source (empty for a whole-archive split)
 * @param label  the class of every file (folders), or -1 when labels come from the archive
 */
public record DecodeTask(String split, String key, int offset, List<String> files, int label) implements Serializable {
    public DecodeTask {
        files = List.copyOf(files);
    }

    /** A whole split of an archive. */
    public static DecodeTask whole(String split) {
        return new DecodeTask(split, split, 0, List.of(), -1);
    }
}
