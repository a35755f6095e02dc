package dev.imgtrain.datasets;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * A class-per-folder image set: {@code SOURCE/train/<class>/*.png|jpg} and {@code SOURCE/test/<class>/*}. Class
 * names are the train folder names, sorted. The image shape is the first train image's; every image must share its
 * size and channel count (1 grey, 3 RGB). Pixels are stored as channel planes (R, G, B), each row-major, like CIFAR-10.
 * The driver lists file names only; images are decoded in executor tasks, one task per class folder.
 */
public record ImageFolder() implements ArchiveFormat {
    public static final List<String> SPLITS = List.of("train", "test");
    static final String PLANES = "channel planes (R, G, B for colour images), each plane row-major; one byte per value (0-255)";

    /** Builds the dataset's spec from the folders (names, class folders, the first image's shape). */
    public static DatasetSpec describe(String name, FileSystem fs, Path source) throws IOException {
        for (String split : SPLITS) {
            if (!fs.getFileStatus(source).isDirectory() || !fs.exists(new Path(source, split))
                    || !fs.getFileStatus(new Path(source, split)).isDirectory()) {
                throw new InvalidArchiveException(new Path(source, split).toString(),
                        "missing: an image folder dataset has train/<class>/ and test/<class>/ folders");
            }
        }
        List<String> classes = folders(fs, new Path(source, "train"));
        if (classes.size() < 2) {
            throw new InvalidArchiveException(new Path(source, "train").toString(), classes.size()
                    + " class folders, expected at least 2");
        }
        for (String testClass : folders(fs, new Path(source, "test"))) {
            if (!classes.contains(testClass)) {
                throw new InvalidArchiveException("test/" + testClass, "class folder not in train/ (train classes: "
                        + classes + ")");
            }
        }
        List<String> first = nonEmpty(images(fs, source, "train/" + classes.get(0)), "train/" + classes.get(0));
        Decoded d = decode(first.get(0), readAll(fs, new Path(source, first.get(0))));
        return new DatasetSpec(name, d.height, d.width, d.channels, PLANES, classes, SPLITS, new ImageFolder());
    }

    @Override
    public List<DecodeTask> plan(DatasetSpec spec, FileSystem fs, Path source) throws IOException {
        List<DecodeTask> tasks = new ArrayList<>();
        for (String split : spec.splits()) {
            int offset = 0;
            for (int label = 0; label < spec.classes().size(); label++) {
                String dir = split + "/" + spec.classes().get(label);
                if (!fs.exists(new Path(source, dir))) {
                    continue;
                }
                List<String> files = nonEmpty(images(fs, source, dir), dir);
                tasks.add(new DecodeTask(split, dir, offset, files, label));
                offset += files.size();
            }
        }
        return tasks;
    }

    @Override
    public SplitDecoder open(DatasetSpec spec, DecodeTask task, FileSystem fs, Path source) {
        MessageDigest digest = sha256();
        return new SplitDecoder() {
            private int next;
            private long bytes;

            @Override
            public Example next() {
                if (next == task.files().size()) {
                    return null;
                }
                String file = task.files().get(next);
                byte[] content;
                try {
                    content = readAll(fs, new Path(source, file));
                } catch (IOException e) {
                    throw new InvalidArchiveException(file, "cannot be read: " + e.getMessage(), e);
                }
                bytes += content.length;
                digest.update(file.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                digest.update(content);
                Decoded d = decode(file, content, spec.height(), spec.width(), "the dataset's images");
                if (d.height != spec.height() || d.width != spec.width() || d.channels != spec.channels()) {
                    throw new InvalidArchiveException(file, "image is " + d.width + "x" + d.height + "x" + d.channels
                            + ", expected " + spec.width() + "x" + spec.height() + "x" + spec.channels()
                            + " like the first train image (width x height x channels)");
                }
                return new Example(task.offset() + next++, task.label(), d.pixels);
            }

            @Override
            public List<DatasetManifest.SourceFile> sources() {
                return List.of(new DatasetManifest.SourceFile(task.key() + "/ (" + task.files().size() + " files)",
                        bytes, HexFormat.of().formatHex(digest.digest())));
            }

            @Override
            public void close() {
            }
        };
    }

    public record Decoded(int height, int width, int channels, byte[] pixels) {
    }

    /**
     * Pixels an image may declare in its header when nothing is known of the size to expect (the first image of a
     * folder): 4096 x 4096. Decoding needs 4 bytes a pixel and more, so an image that declares more is refused from its
     * header before any pixel is decoded (a PNG of a few MB can declare 40000 x 40000: 6.4 GB decoded).
     */
    public static final long MAX_PIXELS = 4096L * 4096;

    /** Beyond this many times the expected pixels (and 64K pixels), an image is refused from its header. */
    static final long OVERSIZE_FACTOR = 16;

    /** Decodes one PNG or JPEG into channel planes; a file that is neither is refused by name. */
    public static Decoded decode(String file, byte[] content) {
        return decode(file, content, -1, -1, "");
    }

    /**
     * Decodes one PNG or JPEG whose size should be {@code height} x {@code width} ({@code -1}: unknown). An image
     * whose header declares far more pixels than that ({@link #OVERSIZE_FACTOR} times, and over 64K pixels), or more
     * than {@link #MAX_PIXELS} at all, is refused from its header, before any pixel is decoded; {@code whose} says
     * whose size it is ("the dataset's images", "the model's input").
     */
    public static Decoded decode(String file, byte[] content, int height, int width, String whose) {
        BufferedImage image = read(file, content, height, width, whose);
        int channels = image.getColorModel().getNumColorComponents();
        if (channels != 1 && channels != 3) {
            throw new InvalidArchiveException(file, channels + " colour channels, expected 1 (grey) or 3 (RGB)");
        }
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] pixels = new byte[w * h * channels];
        int plane = w * h;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                if (channels == 1) {
                    pixels[i] = (byte) image.getRaster().getSample(x, y, 0);
                } else {
                    int rgb = image.getRGB(x, y);
                    pixels[i] = (byte) (rgb >> 16);
                    pixels[plane + i] = (byte) (rgb >> 8);
                    pixels[2 * plane + i] = (byte) rgb;
                }
            }
        }
        return new Decoded(h, w, channels, pixels);
    }

    /**
     * The image, read by ImageIO's reader for its format. A truncated or corrupt JPEG decodes with only a warning
     * ("Premature end of JPEG file": the missing rows grey), so warnings are failures here, like a PNG's read error.
     */
    private static BufferedImage read(String file, byte[] content, int height, int width, String whose) {
        try (javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(content))) {
            java.util.Iterator<javax.imageio.ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new InvalidArchiveException(file, "not a PNG or JPEG image");
            }
            javax.imageio.ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            try {
                reader.setInput(in, true, true);
                checkDeclaredSize(file, reader.getFormatName(), reader.getWidth(0), reader.getHeight(0), height, width, whose);
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new InvalidArchiveException(file, "corrupt or truncated " + reader.getFormatName().toUpperCase(Locale.ROOT)
                            + " image (" + warnings.get(0) + ")");
                }
                return image;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidArchiveException invalid) {
                throw invalid;
            }
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new InvalidArchiveException(file, "corrupt or truncated image (" + e.getMessage()
                    + (root != e ? ": " + root.getClass().getSimpleName() : "") + ")", e);
        }
    }

    /** Refuses an image from the size its header declares (read before any pixel is decoded). */
    static void checkDeclaredSize(String file, String format, int declaredWidth, int declaredHeight, int height, int width,
                                  String whose) {
        long declared = (long) declaredWidth * declaredHeight;
        long expected = height > 0 && width > 0 ? (long) height * width : -1;
        String size = declaredWidth + "x" + declaredHeight;
        String megapixels = String.format(Locale.ROOT, "%.1f megapixels", declared / 1e6);
        if (expected > 0 && declared > Math.max(65_536, OVERSIZE_FACTOR * expected)) {
            throw new InvalidArchiveException(file, "too large: its " + format.toUpperCase(Locale.ROOT) + " header declares "
                    + size + " pixels (" + megapixels + "), " + whose + " are " + width + "x" + height
                    + "; refused before decoding (width x height)");
        }
        if (declared > MAX_PIXELS) {
            throw new InvalidArchiveException(file, "too large: its " + format.toUpperCase(Locale.ROOT) + " header declares "
                    + size + " pixels (" + megapixels + "), more than the " + String.format(Locale.ROOT, "%.1f", MAX_PIXELS / 1e6)
                    + " megapixels imgtrain decodes; refused before decoding");
        }
    }

    /** A class folder's image files, refused by name when there are none. */
    private static List<String> nonEmpty(List<String> files, String dir) {
        if (files.isEmpty()) {
            throw new InvalidArchiveException(dir, "empty class folder: holds no .png or .jpg image");
        }
        return files;
    }

    private static List<String> folders(FileSystem fs, Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        for (FileStatus s : fs.listStatus(dir)) {
            if (s.isDirectory()) {
                names.add(s.getPath().getName());
            }
        }
        names.sort(String::compareTo);
        return names;
    }

    /** Image files of one class folder, relative to the source, sorted; anything else in it is refused. */
    private static List<String> images(FileSystem fs, Path source, String dir) throws IOException {
        List<String> files = new ArrayList<>();
        for (FileStatus s : fs.listStatus(new Path(source, dir))) {
            String name = s.getPath().getName();
            String lower = name.toLowerCase(Locale.ROOT);
            if (!s.isFile() || !(lower.endsWith(".png") || lower.endsWith(".jpg") || lower.endsWith(".jpeg"))) {
                throw new InvalidArchiveException(dir + "/" + name, "not a .png, .jpg or .jpeg file");
            }
            files.add(dir + "/" + name);
        }
        files.sort(String::compareTo);
        return files;
    }

    private static byte[] readAll(FileSystem fs, Path path) throws IOException {
        try (InputStream in = fs.open(path)) {
            return in.readAllBytes();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
