package dev.imgtrain.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.imgtrain.testing.HeadlessChromium;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code imgtrain ui} started as its own process, and a crawl of what it serves in headless Chromium. */
final class UiCrawl {
    private static final ObjectMapper JSON = new ObjectMapper();

    private UiCrawl() {
    }

    /** Reads a process's merged output into {@code into} on a daemon thread (so that it never blocks on a full pipe). */
    static void drain(Process p, StringBuffer into) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    into.append(line).append('\n');
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** {@code imgtrain ui} in its own JVM; its address from the line it prints. */
    record Ui(Process process, StringBuffer output, URI address) implements AutoCloseable {
        static Ui start(List<String> args, Map<String, String> env) throws Exception {
            List<String> all = new ArrayList<>(List.of("ui", "--port", "0"));
            all.addAll(args);
            Process p = Launched.start(all, env);
            StringBuffer out = new StringBuffer();
            drain(p, out);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!out.toString().contains("imgtrain ui: http://")) {
                assertTrue(p.isAlive() && System.nanoTime() < deadline, "imgtrain ui did not start: " + out);
                Thread.sleep(100);
            }
            String line = out.toString().lines().filter(l -> l.startsWith("imgtrain ui: http://")).findFirst().orElseThrow();
            return new Ui(p, out, URI.create(line.substring("imgtrain ui: ".length(), line.indexOf(' ', "imgtrain ui: ".length()))));
        }

        int stop() throws Exception {
            process.destroy(); // SIGTERM
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "imgtrain ui did not stop on SIGTERM");
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    /** What a crawl saw: every page's URL and body (for the secret check). */
    record Crawl(Map<String, String> bodies) {
    }

    /**
     * Opens every page reachable from {@code /} (same server, links of a[href], once each): each answers 200, shows no
     * console error, failed load or dialog, has every image loaded and every chart drawn on a non-empty canvas.
     */
    static Crawl crawl(URI base, HeadlessChromium chromium, Path shots) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        Deque<URI> queue = new ArrayDeque<>(List.of(base));
        Set<String> seen = new LinkedHashSet<>(List.of(base.toString()));
        Map<String, String> bodies = new java.util.LinkedHashMap<>();
        while (!queue.isEmpty()) {
            URI page = queue.poll();
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(page).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode(), page + " answered " + answer.statusCode() + ": " + answer.body());
            bodies.put(page.toString(), answer.body());
            if (!answer.headers().firstValue("content-type").orElse("").startsWith("text/html")) {
                continue;
            }
            HeadlessChromium.PageCheck check = chromium.open(page);
            for (HeadlessChromium.Image image : check.images()) {
                assertTrue(image.naturalWidth() > 0 && image.naturalHeight() > 0, page + ": image did not load: " + image);
            }
            assertTrue(chromium.waitFor("Array.from(document.querySelectorAll('.chart')).every(c => c.dataset.series"
                    + " && c.querySelector('canvas') && c.querySelector('canvas').toDataURL().length > 3000)", 30),
                    page + ": a chart was not drawn: " + chromium.evaluate("JSON.stringify(Array.from("
                            + "document.querySelectorAll('.chart')).map(c => [c.id, c.dataset.series]))")
                            + " " + chromium.errors());
            assertEquals(List.of(), chromium.errors(), page + ": console errors");
            String path = page.getRawPath().equals("/") ? "runs" : page.getRawPath().substring(1).replaceAll("[^A-Za-z0-9._-]", "_");
            if (shots != null && Set.of("runs", "runs_mnist-one", "sweeps_ui-sweep", "models_mnist").contains(path)) {
                Files.write(shots.resolve(path + ".png"), chromium.screenshot());
            }
            JsonNode links = JSON.readTree(chromium.evaluate(
                    "JSON.stringify(Array.from(document.querySelectorAll('a[href]')).map(a => a.href))"));
            for (JsonNode link : links) {
                URI target = URI.create(link.asText().replaceFirst("#.*$", ""));
                if (target.getAuthority() != null && target.getAuthority().equals(base.getAuthority())
                        && seen.add(target.toString())) {
                    queue.add(target);
                }
            }
        }
        return new Crawl(bodies);
    }

}
