package dev.imgtrain.datasets;

import java.util.List;

/**
 * What imgtrain knows of a named dataset: its archive files per split, image shape and class names.
 *
 * @param splits the splits and, for each, its images and labels file names
 */
public record DatasetSpec(String name, int height, int width, int channels, List<String> classes,
                          List<IdxSplit> splits) implements java.io.Serializable {

    /** One split of an IDX dataset: its name and the two gzipped files that hold it. */
    public record IdxSplit(String split, String imagesFile, String labelsFile) implements java.io.Serializable {
    }

    public static final DatasetSpec MNIST = new DatasetSpec("mnist", 28, 28, 1,
            List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
            List.of(new IdxSplit("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                    new IdxSplit("test", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")));

    /** The dataset called {@code name}. */
    public static DatasetSpec named(String name) {
        if (MNIST.name().equals(name)) {
            return MNIST;
        }
        throw new IllegalArgumentException("unknown dataset '" + name + "'; known datasets: [mnist]");
    }

    public int features() {
        return height * width * channels;
    }
}
