package dev.imgtrain.fetch;

import dev.imgtrain.datasets.Cifar10Archive;
import dev.imgtrain.datasets.DatasetSpec;

import java.net.URI;
import java.util.List;

/**
 * Where a built-in dataset's archives are published and what they must be: the file names the ingest stage reads,
 * their sizes and the digests their publishers give (MD5 on the dataset pages). {@code locations} are tried in order;
 * the first is the publisher's own host.
 */
public record DatasetDownload(String dataset, List<URI> locations, List<RemoteFile> files) {

    /** One published file. */
    public record RemoteFile(String name, long size, Digest digest) {
    }

    public static final DatasetDownload MNIST = new DatasetDownload("mnist",
            // yann.lecun.com is the original host (it often answers 403 now); the second is the copy PyTorch's
            // torchvision downloads from. Both serve byte-identical files: the digests below check that.
            List.of(URI.create("https://yann.lecun.com/exdb/mnist/"),
                    URI.create("https://ossci-datasets.s3.amazonaws.com/mnist/")),
            List.of(new RemoteFile("train-images-idx3-ubyte.gz", 9_912_422, Digest.parse("f68b3c2dcbeaaa9fbdd348bbdeb94873")),
                    new RemoteFile("train-labels-idx1-ubyte.gz", 28_881, Digest.parse("d53e105ee54ea40749a09fcbcd1e9432")),
                    new RemoteFile("t10k-images-idx3-ubyte.gz", 1_648_877, Digest.parse("9fb629c4189551a2d022fa330f9573f3")),
                    new RemoteFile("t10k-labels-idx1-ubyte.gz", 4_542, Digest.parse("ec29112dd5afa0611ce80d1b7f02629c"))));

    public static final DatasetDownload FASHION_MNIST = new DatasetDownload("fashion-mnist",
            List.of(URI.create("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")),
            List.of(new RemoteFile("train-images-idx3-ubyte.gz", 26_421_880, Digest.parse("8d4fb7e6c68d591d4c3dfef9ec88bf0d")),
                    new RemoteFile("train-labels-idx1-ubyte.gz", 29_515, Digest.parse("25c81989df183df01b3e8a0aad5dffbe")),
                    new RemoteFile("t10k-images-idx3-ubyte.gz", 4_422_102, Digest.parse("bef4ecab320f06d8554ea6380940ec79")),
                    new RemoteFile("t10k-labels-idx1-ubyte.gz", 5_148, Digest.parse("bb300cfdad3c16e7a12a480ee83cd310"))));

    public static final DatasetDownload CIFAR10 = new DatasetDownload("cifar10",
            List.of(URI.create("https://www.cs.toronto.edu/~kriz/")),
            List.of(new RemoteFile(Cifar10Archive.ARCHIVE, 170_052_171, Digest.parse("c32a1d4ab5d03f1284b67883e8d87530"))));

    public static final List<DatasetDownload> KNOWN = List.of(MNIST, FASHION_MNIST, CIFAR10);

    public DatasetDownload {
        locations = List.copyOf(locations);
        files = List.copyOf(files);
    }

    public static DatasetDownload named(String name) {
        for (DatasetDownload d : KNOWN) {
            if (d.dataset.equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("no download known for dataset '" + name + "'; known: "
                + KNOWN.stream().map(DatasetDownload::dataset).toList()
                + " (image folders and other datasets are not fetched: point --source at them)");
    }

    /** The dataset's shape and classes, for listings. */
    public DatasetSpec spec() {
        return DatasetSpec.named(dataset);
    }

    /** The same files at other locations (an HTTP mirror given with --url). */
    public DatasetDownload at(List<URI> otherLocations) {
        return new DatasetDownload(dataset, otherLocations, files);
    }

    /** The same files with other expected digests (a mirror whose bytes differ from the publisher's). */
    public DatasetDownload withDigests(java.util.Map<String, Digest> digests) {
        for (String name : digests.keySet()) {
            if (files.stream().noneMatch(f -> f.name.equals(name))) {
                throw new IllegalArgumentException("checksums name '" + name + "', which is not a file of " + dataset
                        + " " + files.stream().map(RemoteFile::name).toList());
            }
        }
        return new DatasetDownload(dataset, locations, files.stream().map(f -> {
            Digest d = digests.get(f.name);
            if (d == null) {
                throw new IllegalArgumentException("checksums have no line for " + f.name);
            }
            return new RemoteFile(f.name, -1, d);
        }).toList());
    }
}
