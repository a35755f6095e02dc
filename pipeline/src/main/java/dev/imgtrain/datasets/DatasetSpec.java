package dev.imgtrain.datasets;

import java.util.List;

/**
 * What imgtrain knows of a named dataset: image shape, how its raw bytes are laid out, default class names (an
 * archive that declares its own, like CIFAR-10's batches.meta.txt, wins), its splits and its archive format.
 */
public record DatasetSpec(String name, int height, int width, int channels, String pixelLayout, List<String> classes,
                          List<String> splits, ArchiveFormat format) implements java.io.Serializable {

    static final String GREY = "row-major, one byte per pixel (0-255)";
    static final String CIFAR_PLANES = "channel planes R, G, B (1,024 bytes each), each plane row-major; one byte per value (0-255)";

    public static final DatasetSpec MNIST = new DatasetSpec("mnist", 28, 28, 1, GREY,
            List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), List.of("train", "test"),
            ArchiveFormat.Idx.MNIST_NAMES);

    public static final DatasetSpec FASHION_MNIST = new DatasetSpec("fashion-mnist", 28, 28, 1, GREY,
            List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                    "Ankle boot"), List.of("train", "test"), ArchiveFormat.Idx.MNIST_NAMES);

    public static final DatasetSpec CIFAR10 = new DatasetSpec("cifar10", 32, 32, 3, CIFAR_PLANES,
            List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
            List.of("train", "test"), new ArchiveFormat.Cifar10Binary());

    public static final List<DatasetSpec> KNOWN = List.of(MNIST, FASHION_MNIST, CIFAR10);

    public DatasetSpec {
        classes = List.copyOf(classes);
        splits = List.copyOf(splits);
    }

    /** The dataset called {@code name}. */
    public static DatasetSpec named(String name) {
        for (DatasetSpec spec : KNOWN) {
            if (spec.name().equals(name)) {
                return spec;
            }
        }
        throw new IllegalArgumentException("unknown dataset '" + name + "'; known datasets: "
                + KNOWN.stream().map(DatasetSpec::name).toList());
    }

    public int features() {
        return height * width * channels;
    }
}
