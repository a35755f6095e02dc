package dev.imgtrain.datasets;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.Serializable;
import java.util.List;

/** How a dataset's archives are found and planned (on the driver) and decoded task by task (in executor tasks). */
public interface ArchiveFormat extends Serializable {
    /**
     * The decoding tasks, planned on the driver from file names only, after checking that every file is there
     * (a missing one is named).
     */
    List<DecodeTask> plan(DatasetSpec spec, FileSystem fs, Path source) throws IOException;

    /** One task per split, for formats that stream a whole split from its archive files. */
    private static List<DecodeTask> wholeSplits(DatasetSpec spec) {
        return spec.splits().stream().map(DecodeTask::whole).toList();
    }

    /** Opens one task's input for streaming; called in an executor task. */
    SplitDecoder open(DatasetSpec spec, DecodeTask task, FileSystem fs, Path source) throws IOException;

    /** IDX files (MNIST, Fashion-MNIST): one gzipped images file and one gzipped labels file per split. */
    record Idx(String trainImages, String trainLabels, String testImages, String testLabels) implements ArchiveFormat {
        public static final Idx MNIST_NAMES = new Idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");

        @Override
        public List<DecodeTask> plan(DatasetSpec spec, FileSystem fs, Path source) throws IOException {
            for (String name : new String[]{trainImages, trainLabels, testImages, testLabels}) {
                if (!fs.isFile(new Path(source, name))) {
                    throw new InvalidArchiveException(name, "missing from " + source);
                }
            }
            return wholeSplits(spec);
        }

        @Override
        public SplitDecoder open(DatasetSpec spec, DecodeTask task, FileSystem fs, Path source) throws IOException {
            boolean train = "train".equals(task.split());
            String images = train ? trainImages : testImages;
            String labels = train ? trainLabels : testLabels;
            return new IdxPairReader(images, fs.open(new Path(source, images)), labels, fs.open(new Path(source, labels)),
                    spec.height(), spec.width(), spec.classes().size());
        }
    }

    /** The CIFAR-10 binary archive; the source is the archive itself or a directory holding it. */
    record Cifar10Binary() implements ArchiveFormat {
        @Override
        public List<DecodeTask> plan(DatasetSpec spec, FileSystem fs, Path source) throws IOException {
            archive(fs, source);
            // One task for both splits: the archive is one gzip stream that every split's task would have to
            // decompress in full (test_batch.bin comes last, and each task checks every member).
            return List.of(DecodeTask.whole(Cifar10Archive.BOTH));
        }

        @Override
        public SplitDecoder open(DatasetSpec spec, DecodeTask task, FileSystem fs, Path source) throws IOException {
            Path archive = archive(fs, source);
            return new Cifar10Archive(archive.getName(), fs.open(archive), task.split());
        }

        private static Path archive(FileSystem fs, Path source) throws IOException {
            if (fs.isFile(source)) {
                return source;
            }
            Path inside = new Path(source, Cifar10Archive.ARCHIVE);
            if (!fs.isFile(inside)) {
                throw new InvalidArchiveException(Cifar10Archive.ARCHIVE, "missing from " + source);
            }
            return inside;
        }
    }
}
