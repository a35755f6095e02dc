package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.testing.HeadlessChromium;
import dev.imgtrain.testing.ImageFixtures;
import dev.imgtrain.testing.LocalSpark;
import dev.imgtrain.ui.UiServer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code imgtrain ui} over a warehouse of real runs: two MNIST runs and a CIFAR-10 run, a 4-trial sweep, two
 * promotions, a folder dataset whose class is named like markup, a run directory named with {@code <} and {@code &},
 * and a run that is training in its own process while the UI (its own process too) is crawled in headless Chromium
 * from {@code /}, every link followed: no 404, no console error or dialog, every image and chart drawn; compare of 3
 * runs draws 3 series per chart; the training run's page shows a new epoch without a reload. Then the same crawl over
 * a copy of the warehouse on the S3 server (no secret in any answer; the server stopped: pages say so and the UI
 * stays up), 1,000 runs listed (the time printed), and the command's exits (SIGTERM 0, port in use 1, bad URI 2).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UiIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EVIL_CLASS = "<img src=x onerror=alert(1)>";
    private static final String ODD_RUN = "copy<of>&run";
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    private static Path warehouse;
    private static Process training;
    private static final StringBuffer trainingOutput = new StringBuffer();

    @BeforeAll
    static void warehouseOfRealRuns() throws Exception {
        spark = LocalSpark.start("ui");
        warehouse = tmp.resolve("wh");
        String mnist = LocalSpark.mnistDir().toString();
        String wh = warehouse.toString();
        ok("run", "--warehouse", wh, "--source", mnist, "--run-id", "mnist-one", "--epochs", "2",
                "--set", "train.max-examples=12000");
        ok("run", "--warehouse", wh, "--source", mnist, "--run-id", "mnist-two", "--epochs", "3", "--seed", "7",
                "--set", "train.max-examples=12000", "--set", "model.updater.learning-rate=0.002");
        ok("run", "--warehouse", wh, "--source", LocalSpark.cifar10Dir().toString(), "--dataset", "cifar10",
                "--preset", "cifar10-dense-32-16", "--run-id", "cifar-one", "--epochs", "2",
                "--set", "train.max-examples=10000");
        Path spec = tmp.resolve("ui-sweep.conf");
        Files.writeString(spec, """
                sweep {
                  id = ui-sweep
                  dataset = mnist
                  base { train.epochs = 2, train.max-examples = 3000, train.checkpoints = false }
                  grid {
                    model.updater.learning-rate = [0.0005, 0.002]
                    model.hidden = [[{units = 32, activation = relu}], [{units = 64, activation = relu}]]
                  }
                }
                """);
        ok("sweep", "--spec", spec.toString(), "--source", mnist, "--warehouse", wh);
        ok("promote", "--warehouse", wh, "--run", "mnist-one");
        ok("promote", "--warehouse", wh, "--run", "mnist-two", "--force");
        Path folder = ImageFixtures.folderSet(tmp.resolve("evil-folder"), 3);
        Files.move(folder.resolve("train/a"), folder.resolve("train/" + EVIL_CLASS));
        Files.move(folder.resolve("test/a"), folder.resolve("test/" + EVIL_CLASS));
        ok("ingest", "--warehouse", wh, "--format", "folder", "--dataset", "evil", "--source", folder.toString());
        // A hostile warehouse: a run directory whose name is markup (no imgtrain run id can be; a copy can).
        Path odd = Files.createDirectories(warehouse.resolve("runs").resolve(ODD_RUN));
        for (String f : List.of("params.json", "metrics.jsonl", "evaluation.json", "_SUCCESS")) {
            Files.copy(warehouse.resolve("runs/mnist-one").resolve(f), odd.resolve(f));
        }
        training = Launched.start(List.of("train", "--warehouse", wh, "--run-id", "mnist-live", "--epochs", "1000",
                "--set", "train.max-examples=3000", "--set", "train.checkpoints=false"), Map.of());
        UiCrawl.drain(training, trainingOutput);
        Path metrics = warehouse.resolve("runs/mnist-live/metrics.jsonl");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!(Files.exists(metrics) && Files.readString(metrics).contains("\"epoch\":1"))) {
            assertTrue(training.isAlive() && System.nanoTime() < deadline, "the live run did not finish an epoch");
            Thread.sleep(500);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (training != null) {
            training.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        if (spark != null) {
            spark.stop();
        }
    }

    private static void ok(String... args) {
        String[] r = CliParsingTest.execute(args);
        assertEquals("0", r[0], String.join(" ", args) + ": " + r[1]);
    }

    @Test
    @Order(1)
    void crawlOfALocalWarehouseWhileARunTrains() throws Exception {
        Path shots = Files.createDirectories(Path.of("target", "ui-screenshots"));
        try (UiCrawl.Ui ui = UiCrawl.Ui.start(List.of("--warehouse", warehouse.toString()), Map.of());
             HeadlessChromium chromium = HeadlessChromium.start()) {
            UiCrawl.Crawl crawl = UiCrawl.crawl(ui.address(), chromium, shots);
            Set<String> pages = crawl.bodies().keySet();
            for (String expected : List.of("runs/mnist-one", "runs/cifar-one", "runs/mnist-live", "sweeps/ui-sweep",
                    "models/mnist", "datasets/evil", "datasets/cifar10", "runs/mnist-one/report/index.html",
                    "runs/copy%3Cof%3E%26run")) {
                assertTrue(pages.contains(ui.address() + expected), expected + " was not reached from /: " + pages);
            }
            assertTrue(crawl.bodies().get(ui.address().toString()).contains(">training<"), "the live run shows as training");
            assertTrue(crawl.bodies().get(ui.address() + "datasets/evil").contains("&lt;img src"), "the class is text");

            // Compare 3 runs: 3 series in each of the 4 charts, one per run.
            URI compare = ui.address().resolve("/compare?runs=mnist-one,mnist-two,cifar-one");
            chromium.open(compare);
            assertTrue(chromium.waitFor("document.querySelectorAll('.chart[data-series=\"3\"]').length === 4", 30),
                    chromium.evaluate("JSON.stringify(Array.from(document.querySelectorAll('.chart')).map(c => c.dataset.series))"));
            assertEquals("[\"mnist-one\",\"mnist-two\",\"cifar-one\"]", chromium.evaluate(
                    "JSON.stringify(imgtrainCharts['chart-val_accuracy'].getOption().series.map(s => s.name))"));
            assertEquals(List.of(), chromium.errors());
            byte[] compareShot = chromium.screenshot();
            Files.write(shots.resolve("compare.png"), compareShot);

            // The training run's page: an epoch appears without a reload.
            chromium.open(ui.address().resolve("/runs/mnist-live"));
            assertTrue(chromium.waitFor("document.getElementById('chart-loss').dataset.points > 0", 30));
            int before = Integer.parseInt(chromium.evaluate("document.getElementById('chart-loss').dataset.points"));
            chromium.evaluate("window.notReloaded = true");
            assertTrue(chromium.waitFor("Number(document.getElementById('chart-loss').dataset.points) > " + before, 120),
                    "no new epoch appeared on the live run's page");
            assertEquals("true", chromium.evaluate("String(window.notReloaded)"), "the page was not reloaded");
            assertEquals(List.of(), chromium.errors());
            Files.write(shots.resolve("run-training.png"), chromium.screenshot());

            // The docs' screenshots (checked in when they change).
            Path docs = Files.createDirectories(S3Server.ROOT.resolve("docs/images"));
            Files.copy(shots.resolve("runs.png"), docs.resolve("ui-runs.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.write(docs.resolve("ui-compare.png"), compareShot);
            assertEquals(0, ui.stop(), "SIGTERM ends imgtrain ui with 0");
        }
        // The live run's output is a pipe, not a terminal: progress = auto logs, and its short epochs log no progress.
        String out = trainingOutput.toString();
        assertTrue(out.contains("epoch 3/1000: loss"), out);
        assertFalse(java.util.regex.Pattern.compile("\\] \\d+/\\d+ (rounds|tasks)").matcher(out).find(), out);
        assertFalse(out.contains("\033["), "no terminal codes in a log");
    }

    @Test
    @Order(2)
    void crawlOfTheSameRunsOnS3AndAnOutage() throws Exception {
        String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
        assertTrue(secret != null && secret.length() > 8, "failsafe sets AWS_SECRET_ACCESS_KEY for this test");
        try (S3Server s3 = S3Server.start("imgtrain-ui")) {
            Configuration hadoop = s3.hadoop();
            FileSystem target = FileSystem.get(URI.create("s3a://imgtrain-ui/"), hadoop);
            FileSystem local = FileSystem.getLocal(new Configuration());
            for (String dir : List.of("runs", "sweeps", "models", "datasets")) {
                for (java.io.File child : warehouse.resolve(dir).toFile().listFiles()) {
                    if (child.getName().equals("mnist-live")) {
                        continue; // training: its files change while they are copied
                    }
                    assertTrue(FileUtil.copy(local, new org.apache.hadoop.fs.Path(child.toURI()), target,
                            new org.apache.hadoop.fs.Path("s3a://imgtrain-ui/wh/" + dir + "/" + child.getName()), false, hadoop));
                }
            }
            List<String> args = s3.command("--warehouse", "s3a://imgtrain-ui/wh");
            try (UiCrawl.Ui ui = UiCrawl.Ui.start(args, Map.of()); HeadlessChromium chromium = HeadlessChromium.start()) {
                UiCrawl.Crawl crawl = UiCrawl.crawl(ui.address(), chromium, null);
                assertTrue(crawl.bodies().containsKey(ui.address() + "runs/cifar-one"), crawl.bodies().keySet().toString());
                assertTrue(crawl.bodies().containsKey(ui.address() + "sweeps/ui-sweep"));
                HttpClient http = HttpClient.newHttpClient();
                for (String api : List.of("api/runs", "api/runs/mnist-one", "api/sweeps", "api/sweeps/ui-sweep", "api/models",
                        "api/models/mnist", "api/datasets", "api/datasets/mnist", "api/compare?runs=mnist-one,mnist-two")) {
                    HttpResponse<String> a = http.send(HttpRequest.newBuilder(ui.address().resolve("/" + api)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, a.statusCode(), api);
                    crawl.bodies().put(api, a.body());
                }
                crawl.bodies().forEach((url, body) -> assertFalse(body.contains(secret), url + " shows the S3 secret"));

                s3.halt();
                HttpResponse<String> down = http.send(HttpRequest.newBuilder(ui.address()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(503, down.statusCode(), down.body());
                assertTrue(down.body().contains("cannot be read"), down.body());
                HttpResponse<String> alive = http.send(HttpRequest.newBuilder(ui.address().resolve("/assets/ui.js")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, alive.statusCode(), "the server stays up while the store is down");
                assertTrue(ui.process().isAlive());
                s3.resume();
                assertEquals(0, ui.stop());
            }
        }
    }

    @Test
    @Order(3)
    void aThousandRunsList() throws Exception {
        Path big = tmp.resolve("thousand");
        Path source = warehouse.resolve("runs/mnist-one");
        for (int i = 0; i < 1000; i++) {
            Path run = big.resolve("runs/copy-" + i);
            Files.createDirectories(run.resolve("report"));
            for (String f : List.of("params.json", "metrics.jsonl", "evaluation.json", "_SUCCESS", "report/index.html")) {
                Files.copy(source.resolve(f), run.resolve(f));
            }
        }
        try (UiServer server = UiServer.start(new Warehouse(big.toString(), new Configuration()), "127.0.0.1", 0)) {
            HttpClient http = HttpClient.newHttpClient();
            long[] millis = new long[3];
            for (int i = 0; i < millis.length; i++) {
                long start = System.nanoTime();
                HttpResponse<String> page = http.send(HttpRequest.newBuilder(server.address()).build(),
                        HttpResponse.BodyHandlers.ofString());
                millis[i] = (System.nanoTime() - start) / 1_000_000;
                assertEquals(200, page.statusCode());
                assertEquals(1000, page.body().split("class=\"status committed\"").length - 1);
            }
            // A figure, not a timed assertion (docs/operations.md quotes it).
            System.out.printf("ui: 1000 runs listed in %d ms (first request, every run read), then %d and %d ms%n",
                    millis[0], millis[1], millis[2]);
        }
    }

    @Test
    @Order(4)
    void exitsOfTheCommand() throws Exception {
        try (UiCrawl.Ui ui = UiCrawl.Ui.start(List.of("--warehouse", warehouse.toString(), "--host", "0.0.0.0"), Map.of())) {
            assertTrue(ui.output().toString().contains("anyone who can reach this machine"), ui.output().toString());
            int port = ui.address().getPort();
            ImgtrainCommand.Outcome inUse = ImgtrainCommand.run("ui", "--warehouse", warehouse.toString(), "--port",
                    Integer.toString(port));
            assertEquals(1, inUse.code());
            assertTrue(inUse.errorLine().startsWith("imgtrain ui: failed: cannot listen on 127.0.0.1:" + port)
                    && inUse.errorLine().contains("--port 0"), inUse.errorLine());
            assertEquals(0, ui.stop());
        }
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ImgtrainCommand.Outcome inUse = ImgtrainCommand.run("ui", "--warehouse", warehouse.toString(), "--port",
                    Integer.toString(taken.getLocalPort()));
            assertEquals(1, inUse.code(), inUse.errorLine());
        }
        ImgtrainCommand.Outcome badUri = ImgtrainCommand.run("ui", "--warehouse", "nosuchfs://bucket/wh");
        assertEquals(2, badUri.code());
        assertTrue(badUri.errorLine().startsWith("imgtrain ui: configuration error: --warehouse nosuchfs://bucket/wh:"),
                badUri.errorLine());
        ImgtrainCommand.Outcome badPort = ImgtrainCommand.run("ui", "--port", "70000");
        assertEquals(2, badPort.code());
        assertEquals("imgtrain ui: configuration error: --port 70000: expected 0 (a free port) to 65535", badPort.errorLine());
    }
}
