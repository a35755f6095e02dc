package dev.imgtrain.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Debian's Chromium, headless, driven over the DevTools protocol (a WebSocket from Java's own HTTP client): opens a
 * page, waits for its load event, reports every image's natural width, the page's text and every console error,
 * failed resource load and uncaught exception, and takes a full-page screenshot. The test command installs
 * {@code chromium} when it is missing; a test that needs it fails (never skips) without it.
 */
public final class HeadlessChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private volatile CompletableFuture<Void> loaded = new CompletableFuture<>();

    /** What a page showed. */
    public record PageCheck(List<Image> images, String text, List<String> errors, byte[] screenshot) {
    }

    public record Image(String src, int naturalWidth, int naturalHeight) {
    }

    private HeadlessChromium(Process process, Path profile, WebSocket socket) {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
    }

    public static HeadlessChromium start() throws Exception {
        String binary = System.getProperty("imgtrain.chromium", "/usr/bin/chromium");
        if (!Files.isExecutable(Path.of(binary))) {
            throw new IllegalStateException(binary + " not found: the test command (deploy/local/test.sh) installs "
                    + "Debian's chromium; or apt-get install chromium");
        }
        Path profile = Files.createTempDirectory("imgtrain-chromium");
        Process process = new ProcessBuilder(binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "about:blank")
                .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        Path portFile = profile.resolve("DevToolsActivePort");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IllegalStateException("chromium did not start: " + Files.readString(profile.resolve("chromium.log")));
            }
            Thread.sleep(100);
        }
        int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
        HttpClient http = HttpClient.newHttpClient();
        String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String pageUrl = null;
        for (JsonNode target : JSON.readTree(list)) {
            if ("page".equals(target.path("type").asText())) {
                pageUrl = target.path("webSocketDebuggerUrl").asText();
                break;
            }
        }
        if (pageUrl == null) {
            process.destroyForcibly();
            throw new IllegalStateException("chromium has no page target: " + list);
        }
        HeadlessChromium[] self = new HeadlessChromium[1];
        Listener listener = new Listener(self);
        WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(pageUrl), listener).get(30, TimeUnit.SECONDS);
        self[0] = new HeadlessChromium(process, profile, socket);
        for (String domain : List.of("Runtime.enable", "Log.enable", "Page.enable")) {
            self[0].call(domain, JSON.createObjectNode());
        }
        return self[0];
    }

    /** Opens {@code page}, waits for its load event, then reads its images, text and errors and takes a screenshot. */
    public PageCheck open(URI page) throws Exception {
        viewport(1280, 800);
        errors.clear();
        loaded = new CompletableFuture<>();
        ObjectNode navigate = JSON.createObjectNode().put("url", page.toString());
        JsonNode result = call("Page.navigate", navigate);
        if (result.has("errorText")) {
            throw new IllegalStateException(page + ": " + result.get("errorText").asText());
        }
        loaded.get(60, TimeUnit.SECONDS);
        String script = "JSON.stringify({images: Array.from(document.images).map(i => ({src: i.getAttribute('src'),"
                + " w: i.naturalWidth, h: i.naturalHeight})), text: document.body.innerText,"
                + " width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight})";
        JsonNode value = JSON.readTree(evaluate(script));
        List<Image> images = new ArrayList<>();
        for (JsonNode i : value.get("images")) {
            images.add(new Image(i.path("src").asText(), i.path("w").asInt(), i.path("h").asInt()));
        }
        call("Emulation.setDeviceMetricsOverride", JSON.createObjectNode().put("width", Math.max(1280, value.get("width").asInt()))
                .put("height", value.get("height").asInt()).put("deviceScaleFactor", 1).put("mobile", false));
        JsonNode shot = call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png")
                .put("captureBeyondViewport", true));
        return new PageCheck(images, value.get("text").asText(), List.copyOf(errors),
                Base64.getDecoder().decode(shot.get("data").asText()));
    }

    /** A full-page screenshot (PNG) of the open page as it is now (after its scripts drew). */
    public byte[] screenshot() throws Exception {
        viewport(1280, 800); // measured at a normal window, not at the height of an earlier full-page shot
        JsonNode size = JSON.readTree(evaluate("JSON.stringify({width: document.documentElement.scrollWidth,"
                + " height: document.documentElement.scrollHeight})"));
        call("Emulation.setDeviceMetricsOverride", JSON.createObjectNode().put("width", Math.max(1280, size.get("width").asInt()))
                .put("height", size.get("height").asInt()).put("deviceScaleFactor", 1).put("mobile", false));
        JsonNode shot = call("Page.captureScreenshot", JSON.createObjectNode().put("format", "png")
                .put("captureBeyondViewport", true));
        viewport(1280, 800);
        return Base64.getDecoder().decode(shot.get("data").asText());
    }

    private void viewport(int width, int height) throws Exception {
        call("Emulation.setDeviceMetricsOverride", JSON.createObjectNode().put("width", width).put("height", height)
                .put("deviceScaleFactor", 1).put("mobile", false));
    }

    /** Whether {@code booleanExpression} became true in the open page within {@code seconds} (polled). */
    public boolean waitFor(String booleanExpression, long seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if ("true".equals(evaluate("String(Boolean(" + booleanExpression + "))"))) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** Errors (console, failed loads, exceptions, dialogs) since the page was opened. */
    public List<String> errors() {
        return List.copyOf(errors);
    }

    /** The value of {@code expression} in the open page, as a string (JSON.stringify what is not one). */
    public String evaluate(String expression) throws Exception {
        JsonNode result = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true));
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException("script failed: " + result.get("exceptionDetails"));
        }
        return result.path("result").path("value").asText();
    }

    private JsonNode call(String method, ObjectNode params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", params);
        socket.sendText(JSON.writeValueAsString(message), true).get(30, TimeUnit.SECONDS);
        JsonNode answer = reply.get(60, TimeUnit.SECONDS);
        if (answer.has("error")) {
            throw new IllegalStateException(method + ": " + answer.get("error"));
        }
        return answer.path("result");
    }

    private void onMessage(JsonNode message) {
        if (message.has("id")) {
            CompletableFuture<JsonNode> reply = pending.remove(message.get("id").asInt());
            if (reply != null) {
                reply.complete(message);
            }
            return;
        }
        JsonNode params = message.path("params");
        switch (message.path("method").asText()) {
            case "Page.loadEventFired" -> loaded.complete(null);
            case "Runtime.consoleAPICalled" -> {
                if ("error".equals(params.path("type").asText())) {
                    errors.add("console.error: " + params.path("args"));
                }
            }
            case "Runtime.exceptionThrown" -> errors.add("exception: " + params.path("exceptionDetails"));
            case "Page.javascriptDialogOpening" -> {
                // A page that opens a dialog (alert, confirm) is an error here: an injected script ran.
                errors.add("dialog: " + params.path("type").asText() + " " + params.path("message").asText());
                ObjectNode dismiss = JSON.createObjectNode().put("id", ids.incrementAndGet())
                        .put("method", "Page.handleJavaScriptDialog");
                dismiss.set("params", JSON.createObjectNode().put("accept", false));
                socket.sendText(dismiss.toString(), true);
            }
            case "Log.entryAdded" -> {
                JsonNode entry = params.path("entry");
                if ("error".equals(entry.path("level").asText())) {
                    errors.add(entry.path("source").asText() + ": " + entry.path("text").asText() + " " + entry.path("url").asText());
                }
            }
            default -> {
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.abort();
        java.util.List<ProcessHandle> helpers = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        helpers.forEach(ProcessHandle::destroyForcibly);
        // Chromium's helper processes may still be removing their own files from the profile (EndToEndIT once met a
        // NoSuchFileException in the walk): try again a little later; a temporary profile left behind is harmless.
        for (int attempt = 0; attempt < 5; attempt++) {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                return;
            } catch (java.io.UncheckedIOException | java.nio.file.NoSuchFileException gone) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Joins the frames of each WebSocket message and hands whole messages to the browser object. */
    private static final class Listener implements WebSocket.Listener {
        private final HeadlessChromium[] owner;
        private final StringBuilder partial = new StringBuilder();

        Listener(HeadlessChromium[] owner) {
            this.owner = owner;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    while (owner[0] == null) {
                        Thread.onSpinWait();
                    }
                    owner[0].onMessage(JSON.readTree(text));
                } catch (IOException e) {
                    throw new IllegalStateException("bad DevTools message: " + text, e);
                }
            }
            webSocket.request(1);
            return null;
        }
    }
}
