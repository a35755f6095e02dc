package dev.imgtrain.ui;

import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code imgtrain ui}'s server over a small hand-made warehouse, spoken to over a raw socket (so that paths reach it
 * exactly as written, not normalised by a client): read-only methods, nothing outside the warehouse, headers on every
 * answer, secrets masked, names escaped, and damaged or missing files shown instead of failing the page.
 */
class UiServerTest {
    private static final String BESIDE = "BESIDE-THE-WAREHOUSE-do-not-serve";
    private static final String SECRET = "s3cr3t-VALUE-2f9a";
    private static final String EVIL_CLASS = "<img src=x onerror=alert(1)>";
    private static final String ODD_RUN = "a<b&c";

    @TempDir
    Path dir;
    private Path root;
    private UiServer server;

    @BeforeEach
    void warehouse() throws IOException {
        root = dir.resolve("warehouse");
        Files.writeString(dir.resolve("secret.txt"), BESIDE);
        run("good-run", true, true, true, "{\"epoch\":1,\"loss\":0.5,\"accuracy\":0.8,\"val_loss\":0.4,\"val_accuracy\":0.85,\"epoch_seconds\":2.0}\n"
                + "{\"epoch\":2,\"loss\":0.3,\"accuracy\":0.9,\"val_loss\":0.35,\"val_accuracy\":0.88,\"epoch_seconds\":2.0}\n");
        run("truncated-run", false, false, false, "{\"epoch\":1,\"loss\":0.5,\"accuracy\":0.8,\"val_loss\":0.4,\"val_accuracy\":0.85,\"epoch_seconds\":2.0}\n"
                + "{\"epoch\":2,\"lo");
        run("no-evaluation", true, false, false, "{\"epoch\":1,\"loss\":0.5,\"accuracy\":0.8,\"val_loss\":0.4,\"val_accuracy\":0.85,\"epoch_seconds\":2.0}\n");
        run(ODD_RUN, true, true, false, "{\"epoch\":1,\"loss\":0.5,\"accuracy\":0.8,\"val_loss\":0.4,\"val_accuracy\":0.85,\"epoch_seconds\":2.0}\n");
        Files.createDirectories(root.resolve("runs/half-written"));
        Files.writeString(root.resolve("runs/half-written/params.json"), "{\"run_id\":\"half-written\",\"created_at\":\"2026-");
        Path evil = Files.createDirectories(root.resolve("datasets/evil"));
        Files.writeString(evil.resolve("_dataset.json"), "{\"name\":\"evil\",\"shape\":[2,2,1],\"classes\":[\"ok\","
                + json(EVIL_CLASS) + "],\"counts\":{\"train\":2,\"test\":0}}");
        server = UiServer.start(new Warehouse(root.toString(), new Configuration()), "127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private void run(String id, boolean committed, boolean evaluated, boolean report, String metrics) throws IOException {
        Path run = Files.createDirectories(root.resolve("runs").resolve(id));
        Files.writeString(run.resolve("params.json"), "{\"run_id\":" + json(id) + ",\"created_at\":\"2026-12-01T10:00:00Z\","
                + "\"dataset\":\"mnist\",\"preset\":\"mnist-dense-512\",\"versions\":{\"git_commit\":\"0123456789abcdef\"},"
                + "\"config\":{\"train\":{\"epochs\":2,\"workers\":2},\"storage\":{\"s3a\":{\"secret-key\":\"" + SECRET + "\","
                + "\"endpoint\":\"http://127.0.0.1:9\"}},\"hadoop\":{\"fs.s3a.secret.key\":\"" + SECRET + "\","
                + "\"fs.s3a.server-side-encryption.key\":\"" + SECRET + "\",\"ldap.password\":\"" + SECRET + "\"}}}");
        Files.writeString(run.resolve("metrics.jsonl"), metrics);
        if (evaluated) {
            Files.writeString(run.resolve("evaluation.json"), "{\"split\":\"test\",\"examples\":100,\"accuracy\":0.9,"
                    + "\"loss\":0.3,\"per_class\":[{\"class_name\":\"0\",\"precision\":0.9,\"recall\":0.9,\"f1\":0.9,\"support\":50}]}");
        }
        if (report) {
            Files.createDirectories(run.resolve("report"));
            Files.writeString(run.resolve("report/index.html"), "<!DOCTYPE html><title>report</title><p>the report");
        }
        if (committed) {
            Files.writeString(run.resolve("_SUCCESS"), "");
        }
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** One request exactly as written; the answer's status, headers (lower-case names) and body. */
    private record Answer(int status, Map<String, String> headers, String body) {
    }

    private Answer request(String method, String rawTarget) throws IOException {
        int port = server.address().getPort();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write((method + " " + rawTarget + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n"
                    + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.UTF_8);
            int end = text.indexOf("\r\n\r\n");
            String[] head = text.substring(0, end).split("\r\n");
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < head.length; i++) {
                int colon = head[i].indexOf(':');
                headers.put(head[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), head[i].substring(colon + 1).trim());
            }
            return new Answer(Integer.parseInt(head[0].split(" ")[1]), headers, text.substring(end + 4));
        }
    }

    private Answer get(String rawTarget) throws IOException {
        return request("GET", rawTarget);
    }

    @Test
    void onlyGetAndHead() throws IOException {
        for (String method : List.of("POST", "PUT", "DELETE", "PATCH", "OPTIONS")) {
            Answer a = request(method, "/runs/good-run");
            assertEquals(405, a.status(), method);
            assertEquals("GET, HEAD", a.headers().get("allow"), method);
        }
        Answer head = request("HEAD", "/runs/good-run");
        assertEquals(200, head.status());
        assertEquals("", head.body());
        assertTrue(Files.exists(root.resolve("runs/good-run/params.json")), "nothing was changed");
    }

    @Test
    void nothingOutsideTheWarehouseIsServed() throws IOException {
        assertEquals(200, get("/runs/good-run/report/index.html").status(), "a report file itself is served");
        List<String> attacks = List.of("/../secret.txt", "/runs/../../secret.txt", "/runs/good-run/report/../../../../secret.txt",
                "/runs/%2e%2e/%2e%2e/secret.txt", "/runs/good-run/report/%2E%2E/%2E%2E/%2E%2E/secret.txt",
                "/runs/good-run/report/..%2f..%2f..%2f..%2fsecret.txt", "/runs/good-run/report/..%5c..%5c..%5csecret.txt",
                "/runs/good-run/report/..\\..\\..\\..\\secret.txt", "/runs/good-run/report/%252e%252e%252fsecret.txt",
                "/runs/%2F" + root.getParent().toString().substring(1).replace("/", "%2F") + "%2Fsecret.txt",
                "//" + dir.resolve("secret.txt"), "/runs/good-run/report/index.html%00.png",
                "/runs/good-run/report/%00", "/assets/..%2f..%2f..%2fsecret.txt", "/assets/%2e%2e",
                "/datasets/%2e%2e/samples.png", "/api/runs/%2e%2e%2f%2e%2e%2fsecret.txt",
                "http://127.0.0.1/../secret.txt", "/runs/good-run/report/" + dir.resolve("secret.txt"));
        for (String attack : attacks) {
            Answer a = get(attack);
            assertTrue(a.status() == 400 || a.status() == 404, attack + " answered " + a.status());
            assertFalse(a.body().contains(BESIDE), attack + " served the file beside the warehouse");
            // A request line that is not a URI at all (a literal backslash) is refused by the JDK's server itself, with
            // its own 400 page and without the handler's headers; everything that reaches the handler has them.
            boolean refusedByJdk = a.status() == 400 && a.body().contains("URISyntaxException");
            assertTrue(refusedByJdk || String.valueOf(a.headers().get("content-security-policy")).contains("script-src 'self'"),
                    attack + " " + a);
        }
    }

    @Test
    void everyAnswerCarriesTheSecurityHeaders() throws IOException {
        for (String target : List.of("/", "/runs/good-run", "/api/runs", "/assets/ui.js", "/nope", "/runs/%2e%2e",
                "/compare?runs=good-run,no-evaluation", "/sweeps", "/models", "/datasets", "/datasets/evil")) {
            Answer a = get(target);
            String csp = a.headers().get("content-security-policy");
            assertTrue(csp != null && csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), target + ": " + csp);
            assertFalse(csp.contains("unsafe-eval") || csp.matches(".*script-src[^;]*unsafe-inline.*"), target + ": " + csp);
            assertEquals("nosniff", a.headers().get("x-content-type-options"), target);
            assertTrue(a.headers().get("content-type") != null, target);
        }
        assertEquals(405, request("POST", "/api/runs").status());
    }

    @Test
    void secretsNeverLeaveTheServer() throws IOException {
        for (String target : List.of("/", "/runs/good-run", "/runs/no-evaluation", "/api/runs", "/api/runs/good-run",
                "/api/runs/good-run/metrics", "/compare?runs=good-run,no-evaluation", "/api/compare?runs=good-run,no-evaluation")) {
            Answer a = get(target);
            assertEquals(200, a.status(), target);
            assertFalse(a.body().contains(SECRET), target + " shows a secret");
        }
        assertTrue(get("/api/runs/good-run").body().contains(Secrets.MASK), "the masked keys are shown as masked");
        assertTrue(get("/runs/good-run").body().contains("storage.s3a.endpoint"), "the other keys are shown");
    }

    @Test
    void namesFromTheWarehouseAreEscaped() throws IOException {
        Answer runs = get("/");
        assertTrue(runs.body().contains("a&lt;b&amp;c"), runs.body());
        assertFalse(runs.body().contains(ODD_RUN));
        assertTrue(runs.body().contains("href=\"/runs/a%3Cb%26c\""), "the link is percent-encoded");
        Answer run = get("/runs/a%3Cb%26c");
        assertEquals(200, run.status());
        assertTrue(run.body().contains("data-run=\"a&lt;b&amp;c\""), "the id reaches the script as escaped text");
        assertFalse(run.body().contains(ODD_RUN));
        Answer dataset = get("/datasets/evil");
        assertEquals(200, dataset.status());
        assertTrue(dataset.body().contains("&lt;img src&#61;x onerror&#61;alert(1)&gt;")
                || dataset.body().contains("&lt;img src=x onerror=alert(1)&gt;"), dataset.body());
        assertFalse(dataset.body().contains(EVIL_CLASS));
        assertTrue(get("/api/runs/a%3Cb%26c").body().contains("\"run_id\" : \"a<b&c\""), "JSON keeps the name as it is");
    }

    @Test
    void damagedAndMissingFilesAreShownNotFatal() throws IOException {
        Answer truncated = get("/runs/truncated-run");
        assertEquals(200, truncated.status());
        assertTrue(truncated.body().contains("metrics.jsonl line 2 is not valid JSON (truncated?); it was skipped"),
                truncated.body());
        assertTrue(get("/api/runs/truncated-run/metrics").body().contains("\"epoch\" : 1"), "the good line is kept");
        Answer half = get("/runs/half-written");
        assertEquals(200, half.status());
        assertTrue(half.body().contains("params.json is not valid JSON"), half.body());
        assertTrue(half.body().contains("No epoch has finished yet"), half.body());
        Answer noEvaluation = get("/runs/no-evaluation");
        assertTrue(noEvaluation.body().contains("Not evaluated yet"), noEvaluation.body());
        assertTrue(noEvaluation.body().contains("No report yet"), noEvaluation.body());
        Answer list = get("/");
        assertEquals(200, list.status());
        for (String id : List.of("good-run", "truncated-run", "no-evaluation", "half-written")) {
            assertTrue(list.body().contains(">" + id + "<"), id);
        }
        assertTrue(list.body().contains("uncommitted"), "a run without _SUCCESS and without a live lock");
        assertEquals(404, get("/runs/no-such-run").status());
        assertEquals(404, get("/runs/good-run/report/nothing.png").status());
        assertEquals(404, get("/api/runs/no-such-run").status());
        assertEquals(404, get("/datasets/evil/samples.png").status(), "no raw table: nothing to draw");
        assertEquals(400, get("/compare?runs=good-run").status(), "one run is not a comparison");
        assertEquals(404, get("/compare?runs=good-run,nope").status());
    }

    @Test
    void anEmptyWarehouseRenders() throws IOException {
        server.close();
        server = UiServer.start(new Warehouse(dir.resolve("empty").toString(), new Configuration()), "127.0.0.1", 0);
        for (String target : List.of("/", "/sweeps", "/models", "/datasets", "/api/runs", "/api/sweeps")) {
            assertEquals(200, get(target).status(), target);
        }
        assertTrue(get("/").body().contains("This warehouse has no runs yet"));
        assertEquals("[ ]", get("/api/runs").body().trim());
    }

    @Test
    void requestPathsAreCutAndChecked() {
        assertEquals(List.of("runs", "a<b&c"), RequestPath.parse("/runs/a%3Cb%26c").segments());
        assertEquals(List.of("runs", "a+b"), RequestPath.parse("/runs/a+b").segments(), "'+' is not a space in a path");
        assertEquals(List.of(), RequestPath.parse("/").segments());
        for (String bad : List.of("runs", "/a//b", "/a/./b", "/a/%2E/b", "/%2e%2E", "/a%2fb", "/a%5Cb", "/a\\b", "/a%00",
                "/a%zz", "/a%")) {
            try {
                RequestPath.parse(bad);
                throw new AssertionError(bad + " was accepted");
            } catch (RequestPath.BadPath expected) {
                assertFalse(expected.getMessage().isEmpty());
            }
        }
        assertEquals(List.of("A", "B,C"), Api.runIds(RequestPath.query("runs=A,B%2CC")));
        assertEquals(List.of("A", "B"), Api.runIds(RequestPath.query("run=A&run=B&runs=A")));
    }
}
