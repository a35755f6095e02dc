package dev.imgtrain.jobs;

import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad folder datasets and bad configuration values through the CLI (issue 17): each exits non-zero with one line
 * naming the file or the key, and the warehouse (holding a committed dataset of the same name) is left exactly as it
 * was: same files, same sizes, same modification times. The folder datasets are real CIFAR-10 JPEGs
 * ({@code data/cifar10-jpeg}), broken the ways users' folders are.
 */
class BadInputIT {
    private static final Path JPEGS = LocalSpark.cifar10JpegDir();
    private static final List<String> CLASSES = List.of("airplane", "automobile", "bird");
    private static SparkSession spark;
    private static Path root;
    private static Path warehouse;
    private static TreeMap<String, String> before;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.start("bad-input");
        root = Files.createTempDirectory("bad-input");
        warehouse = root.resolve("wh");
        Path good = copyOfGoodSet(root.resolve("good"));
        for (String command : List.of("ingest", "preprocess")) {
            String[] ok = CliParsingTest.execute(command, "--format", "folder", "--dataset", "pics", "--source",
                    good.toString(), "--warehouse", warehouse.toString());
            assertEquals("0", ok[0], ok[1]);
        }
        before = listing(warehouse);
        assertTrue(before.keySet().stream().anyMatch(k -> k.startsWith("datasets/pics/features/")), before.toString());
    }

    @AfterAll
    static void stop() throws IOException {
        spark.stop();
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    interface Breakage {
        void apply(Path source) throws IOException;
    }

    static Stream<Arguments> badFolders() {
        return Stream.of(
                Arguments.of("an image of another size", (Breakage) src -> write(scaled(first(src, "train/bird"), 2),
                        src.resolve("train/bird/zz-big.jpg"), "jpg"),
                        "train/bird/zz-big.jpg: image is 64x64x3, expected 32x32x3 like the first train image"),
                Arguments.of("a grey image among colour ones", (Breakage) src -> write(grey(first(src, "test/airplane")),
                        src.resolve("test/airplane/zz-grey.jpg"), "jpg"),
                        "test/airplane/zz-grey.jpg: image is 32x32x1, expected 32x32x3 like the first train image"),
                Arguments.of("a truncated JPEG", (Breakage) src -> truncate(firstFile(src, "train/automobile"), 0.9),
                        "train/automobile/0000.jpg: corrupt or truncated "),
                Arguments.of("a corrupt PNG", (Breakage) src -> {
                    Path png = src.resolve("train/bird/zz-corrupt.png");
                    write(ImageIO.read(firstFile(src, "train/bird").toFile()), png, "png");
                    truncate(png, 0.5);
                }, "train/bird/zz-corrupt.png: corrupt or truncated image ("),
                Arguments.of("a decompression bomb", (Breakage) src -> Files.write(src.resolve("train/bird/zz-bomb.png"),
                        dev.imgtrain.testing.ImageFixtures.pngDeclaring(40000, 40000)),
                        "train/bird/zz-bomb.png: too large: its PNG header declares 40000x40000 pixels (1600.0 megapixels),"
                                + " the dataset's images are 32x32; refused before decoding"),
                Arguments.of("a JPEG too large for ImageIO", (Breakage) src -> Files.write(src.resolve("test/bird/zz-huge.jpg"),
                        dev.imgtrain.testing.ImageFixtures.jpegDeclaring(60000, 60000)),
                        "test/bird/zz-huge.jpg: too large: its JPEG header declares 60000x60000 pixels"),
                Arguments.of("a text file named .jpg", (Breakage) src -> Files.writeString(src.resolve("train/bird/notes.jpg"),
                        "not an image"), "train/bird/notes.jpg: not a PNG or JPEG image"),
                Arguments.of("a non-image file", (Breakage) src -> Files.writeString(src.resolve("test/bird/Thumbs.db"), "x"),
                        "test/bird/Thumbs.db: not a .png, .jpg or .jpeg file"),
                Arguments.of("a class folder only in test", (Breakage) src -> Files.copy(firstFile(src, "test/bird"),
                        Files.createDirectories(src.resolve("test/zebra")).resolve("0001.jpg")),
                        "test/zebra: class folder not in train/ (train classes: [airplane, automobile, bird])"),
                Arguments.of("an empty class folder", (Breakage) src -> Files.createDirectories(src.resolve("train/deer")),
                        "train/deer: empty class folder: holds no .png or .jpg image"),
                Arguments.of("a single class", (Breakage) src -> {
                    for (String gone : List.of("automobile", "bird")) {
                        for (String split : List.of("train", "test")) {
                            deleteTree(src.resolve(split + "/" + gone));
                        }
                    }
                }, "/train: 1 class folders, expected at least 2"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFolders")
    void aBadFolderDatasetIsRefusedNamingTheFileAndTheWarehouseIsUntouched(String name, Breakage breakage,
                                                                          String expected) throws Exception {
        Path source = copyOfGoodSet(root.resolve("case-" + name.replace(' ', '-')));
        breakage.apply(source);
        String[] result = CliParsingTest.execute("ingest", "--format", "folder", "--dataset", "pics",
                "--source", source.toString(), "--warehouse", warehouse.toString());
        String first = result[1].lines().findFirst().orElse("");
        assertEquals("1", result[0], result[1]);
        assertTrue(first.startsWith("imgtrain ingest: invalid input: ") && first.contains(expected),
                "expected a line with '" + expected + "', got:\n" + result[1]);
        assertEquals(List.of(first, "(set IMGTRAIN_DEBUG=1 for the stack trace)"), result[1].lines().toList(),
                "one line, then the hint: no stack trace");
        assertUnchanged();
    }

    /**
     * Through the real launcher (its own JVM, Spark stopped at exit): the line is the last thing printed but the hint,
     * with no stack trace after it, though the failure came from an executor task of a job Spark cancels.
     */
    @org.junit.jupiter.api.Test
    void throughTheLauncherNothingButTheHintFollowsTheLine() throws Exception {
        Path source = copyOfGoodSet(root.resolve("launched"));
        write(grey(first(source, "train/bird")), source.resolve("train/bird/zz-grey.jpg"), "jpg");
        Launched run = Launched.run(List.of("ingest", "--format", "folder", "--dataset", "pics", "--source",
                source.toString(), "--warehouse", warehouse.toString()), java.util.Map.of());
        assertEquals(1, run.code(), run.output());
        List<String> lines = run.output().lines().toList();
        assertEquals(List.of("imgtrain ingest: invalid input: train/bird/zz-grey.jpg: image is 32x32x1, expected 32x32x3 "
                        + "like the first train image (width x height x channels)", "(set IMGTRAIN_DEBUG=1 for the stack trace)"),
                lines.subList(Math.max(0, lines.size() - 2), lines.size()), run.output());
        assertUnchanged();
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of(List.of("--epochs=-1"), "train.epochs = -1: expected an integer in [1, 10000]"),
                Arguments.of(List.of("--set", "model.batch-size=0"), "model.batch-size = 0: expected an integer in [1, 65536]"),
                Arguments.of(List.of("--set", "train.batch-size=-8"), "train.batch-size = -8: expected an integer in [0, 65536]"),
                Arguments.of(List.of("--set", "model.output-activation=swishy"), "model.output-activation = 'swishy'"),
                Arguments.of(List.of("--set", "model.hidden=[{units = 64, activation = swishy}]"), "activation = 'swishy'"),
                Arguments.of(List.of("--set", "model.updater.learning-rate=0"),
                        "model.updater.learning-rate = 0.0: expected a positive number"),
                Arguments.of(List.of("--set", "train.workers=two"), "train.workers = \"two\": expected an integer"),
                Arguments.of(List.of("--set", "storage.stale-after=soon"), "storage.stale-after = \"soon\": expected a duration"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badValues")
    void aBadConfigurationValueExits2NamingTheKey(List<String> flags, String expected) throws Exception {
        List<String> args = new ArrayList<>(List.of("train", "--format", "folder", "--dataset", "pics",
                "--warehouse", warehouse.toString(), "--run-id", "never"));
        args.addAll(flags);
        String[] result = CliParsingTest.execute(args.toArray(String[]::new));
        assertEquals("2", result[0], result[1]);
        String first = result[1].lines().findFirst().orElse("");
        assertTrue(first.startsWith("imgtrain train: configuration error: ") && first.contains(expected),
                "expected '" + expected + "', got:\n" + result[1]);
        assertUnchanged();
    }

    /**
     * A model whose bytes changed after it was written (a bit flipped, as on S3 where no file system checksum would
     * notice it, then as on a local disk where Hadoop's .crc does): evaluate, promote and predict each exit 1 with one
     * line naming the file and saying it is damaged; nothing is promoted.
     */
    @org.junit.jupiter.api.Test
    void aDamagedModelIsNamedByEveryCommandThatUsesIt() throws Exception {
        Path wh = root.resolve("damaged-wh");
        Path good = root.resolve("good");
        for (String[] command : List.of(new String[]{"ingest"}, new String[]{"preprocess"},
                new String[]{"train", "--preset", "cifar10-dense-32-16", "--epochs", "1", "--run-id", "m"},
                new String[]{"evaluate", "--run", "m"})) {
            List<String> args = new ArrayList<>(List.of(command));
            args.addAll(List.of("--format", "folder", "--dataset", "pics", "--source", good.toString(), "--warehouse",
                    wh.toString()));
            String[] ok = CliParsingTest.execute(args.toArray(String[]::new));
            assertEquals("0", ok[0], String.join(" ", args) + ": " + ok[1]);
        }
        Path model = wh.resolve("runs/m/model.zip");
        assertTrue(Files.exists(wh.resolve("runs/m/model.zip.sha256")), "the digest is written beside the model");
        byte[] bytes = Files.readAllBytes(model);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(model, bytes);
        Files.delete(wh.resolve("runs/m/.model.zip.crc"));
        String modelUri = model.toUri().toString().replace("file:///", "file:/");
        List<List<String>> commands = List.of(List.of("evaluate", "--run", "m"), List.of("promote", "--run", "m"),
                List.of("predict", "--model", "m", "--input", good.resolve("test").toString(), "--output",
                        root.resolve("scores").toString()));
        for (List<String> command : commands) {
            List<String> args = new ArrayList<>(command);
            args.addAll(List.of("--format", "folder", "--dataset", "pics", "--warehouse", wh.toString()));
            String[] result = CliParsingTest.execute(args.toArray(String[]::new));
            assertEquals("1", result[0], command + ": " + result[1]);
            String line = result[1].lines().findFirst().orElse("");
            assertTrue(line.startsWith("imgtrain " + command.get(0) + ": failed: " + modelUri + " is damaged: its SHA-256 is ")
                    && line.contains("was recorded when it was written (model.zip.sha256;"), command + ": " + result[1]);
            assertEquals(2, result[1].lines().count(), "one line and the hint: " + result[1]);
        }
        assertTrue(Files.notExists(wh.resolve("models/pics/current.json")) && Files.notExists(wh.resolve("models/pics/versions")),
                "nothing was promoted");
        assertTrue(Files.notExists(root.resolve("scores")), "nothing was scored");
        // With Hadoop's checksum file present (a local warehouse), its failure is said in words.
        CliParsingTest.execute("train", "--preset", "cifar10-dense-32-16", "--epochs", "1", "--run-id", "m2", "--format",
                "folder", "--dataset", "pics", "--warehouse", wh.toString());
        Path model2 = wh.resolve("runs/m2/model.zip");
        byte[] bytes2 = Files.readAllBytes(model2);
        bytes2[bytes2.length / 3] ^= 0x40;
        Files.write(model2, bytes2);
        String[] result = CliParsingTest.execute("evaluate", "--run", "m2", "--format", "folder", "--dataset", "pics",
                "--warehouse", wh.toString());
        assertEquals("1", result[0], result[1]);
        assertTrue(result[1].startsWith("imgtrain evaluate: failed: " + model2.toUri().toString().replace("file:///", "file:/")
                + " is damaged: the file system's checksum of its bytes does not match"), result[1]);
    }

    /** Four train and two test images of each of three classes, real CIFAR-10 JPEGs (32x32 RGB). */
    private static Path copyOfGoodSet(Path target) throws IOException {
        for (String split : List.of("train", "test")) {
            for (String c : CLASSES) {
                Path dir = Files.createDirectories(target.resolve(split + "/" + c));
                try (var files = Files.list(JPEGS.resolve(split + "/" + c))) {
                    for (Path f : files.sorted().limit(split.equals("train") ? 4 : 2).toList()) {
                        Files.copy(f, dir.resolve(String.format("%04d.jpg", Files.list(dir).count())));
                    }
                }
            }
        }
        return target;
    }

    /**
     * The warehouse as it was after the good dataset was committed: a failure names what differs. Differences only
     * under {@code _tmp/} are looked at again for up to 5 s: these commands run in this JVM, whose Spark may still be
     * ending a task of the failed job that it launched while it handled the failure (the log shows tasks starting after
     * "aborting job"); such a task removes the scratch directory it finds abandoned (Scratch.abandoned), and a listing
     * once caught that directory half-deleted. Anything left after that, or anywhere else, fails.
     */
    private static void assertUnchanged() throws IOException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        TreeMap<String, String> diff = differences();
        while (!diff.isEmpty() && diff.keySet().stream().allMatch(k -> k.startsWith("_tmp/")) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            diff = differences();
        }
        assertEquals(new TreeMap<>(), diff, "nothing new in the warehouse");
    }

    private static TreeMap<String, String> differences() throws IOException {
        TreeMap<String, String> now = listing(warehouse);
        TreeMap<String, String> diff = new TreeMap<>();
        for (String k : new java.util.TreeSet<>(java.util.Set.copyOf(before.keySet()))) {
            if (!before.get(k).equals(now.get(k))) {
                diff.put(k, before.get(k) + " -> " + now.get(k));
            }
        }
        for (String k : now.keySet()) {
            if (!before.containsKey(k)) {
                diff.put(k, "new: " + now.get(k));
            }
        }
        return diff;
    }

    /**
     * Every file (size and modification time) and directory under {@code dir}; an entry deleted while it is listed is
     * shown as such (the walk itself is tried again when a directory goes from under it).
     */
    private static TreeMap<String, String> listing(Path dir) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return listingOnce(dir);
            } catch (java.io.UncheckedIOException e) {
                if (!(e.getCause() instanceof java.nio.file.NoSuchFileException) || attempt == 10) {
                    throw e;
                }
            }
        }
    }

    private static TreeMap<String, String> listingOnce(Path dir) throws IOException {
        TreeMap<String, String> all = new TreeMap<>();
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.toList()) {
                // A directory by name only: a stage's scratch, created and removed under _tmp/, changes its mtime.
                try {
                    all.put(dir.relativize(p).toString(), Files.isDirectory(p) ? "dir"
                            : Files.size(p) + " bytes " + Files.getLastModifiedTime(p).toMillis());
                } catch (java.nio.file.NoSuchFileException gone) {
                    all.put(dir.relativize(p).toString(), "vanished while listed"); // a difference, looked at again
                }
            }
        }
        return all;
    }

    private static Path firstFile(Path src, String dir) throws IOException {
        try (var files = Files.list(src.resolve(dir))) {
            return files.sorted().findFirst().orElseThrow();
        }
    }

    private static BufferedImage first(Path src, String dir) throws IOException {
        return ImageIO.read(firstFile(src, dir).toFile());
    }

    private static BufferedImage scaled(BufferedImage image, int factor) {
        BufferedImage big = new BufferedImage(image.getWidth() * factor, image.getHeight() * factor, BufferedImage.TYPE_INT_RGB);
        big.createGraphics().drawImage(image, 0, 0, big.getWidth(), big.getHeight(), null);
        return big;
    }

    private static BufferedImage grey(BufferedImage image) {
        BufferedImage grey = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
        grey.createGraphics().drawImage(image, 0, 0, null);
        return grey;
    }

    private static void write(BufferedImage image, Path file, String format) throws IOException {
        assertTrue(ImageIO.write(image, format, file.toFile()), format);
    }

    private static void truncate(Path file, double keep) throws IOException {
        byte[] all = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(all, (int) (all.length * keep)));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
