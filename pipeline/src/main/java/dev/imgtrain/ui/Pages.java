package dev.imgtrain.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import dev.imgtrain.registry.ModelRegistry;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One handler per HTML page. Each builds a small view (maps and lists of plain values) and fills its template under
 * {@code resources/dev/imgtrain/ui/} (mustache: every value is HTML-escaped); links are built here, each name
 * percent-encoded as a path segment. Charts are drawn in the browser by {@code ui.js} from the JSON API.
 */
final class Pages {
    private static final DefaultMustacheFactory TEMPLATES = new DefaultMustacheFactory("dev/imgtrain/ui");
    private final WarehouseView view;

    Pages(WarehouseView view) {
        this.view = view;
    }

    Response runs() throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        Set<String> datasets = new java.util.TreeSet<>();
        for (RunIndex.Run r : view.runs().runs()) {
            datasets.add(r.dataset());
            rows.add(runRow(r));
        }
        Map<String, Object> v = page("Runs", "runs");
        v.put("rows", rows);
        v.put("count", rows.size());
        v.put("datasets", List.copyOf(datasets));
        v.put("empty", rows.isEmpty());
        return render("runs.mustache", v, 200);
    }

    private static Map<String, Object> runRow(RunIndex.Run r) {
        Map<String, Object> row = new HashMap<>();
        row.put("id", r.id());
        row.put("href", "/runs/" + RequestPath.encode(r.id()));
        row.put("status", r.status().label());
        row.put("statusClass", r.status().label());
        row.put("dataset", r.dataset());
        row.put("preset", r.preset());
        row.put("epochsDone", r.metrics().size());
        row.put("epochsAsked", r.epochsAsked());
        row.put("workers", r.workers());
        row.put("testAccuracy", fmt(r.testAccuracy()));
        row.put("valAccuracy", fmt(r.finalValAccuracy()));
        row.put("wall", r.wallSeconds() == null ? "" : String.format(Locale.ROOT, "%.1f", r.wallSeconds()));
        row.put("created", r.createdAt().length() >= 19 ? r.createdAt().substring(0, 19).replace('T', ' ') : r.createdAt());
        row.put("commit", r.commit().length() > 8 ? r.commit().substring(0, 8) : r.commit());
        row.put("hasProblems", !r.problems().isEmpty());
        return row;
    }

    Response run(String id) throws IOException {
        Optional<RunIndex.Run> found = view.runs().run(id);
        if (found.isEmpty()) {
            return notFound("no run '" + id + "' in this warehouse");
        }
        RunIndex.Run r = found.get();
        Map<String, Object> v = page("Run " + id, "run");
        v.putAll(runRow(r));
        v.put("live", r.status() != RunIndex.Status.COMMITTED);
        v.put("problemList", r.problems());
        List<Map<String, Object>> history = new ArrayList<>();
        for (JsonNode m : r.metrics()) {
            history.add(Map.of("epoch", m.path("epoch").asInt(), "loss", fmt(m, "loss"), "accuracy", fmt(m, "accuracy"),
                    "valLoss", fmt(m, "val_loss"), "valAccuracy", fmt(m, "val_accuracy"),
                    "seconds", String.format(Locale.ROOT, "%.1f", m.path("epoch_seconds").asDouble())));
        }
        v.put("history", history);
        v.put("noHistory", history.isEmpty());
        JsonNode e = r.evaluation();
        if (e != null) {
            Map<String, Object> eval = new HashMap<>();
            eval.put("accuracy", fmt(e, "accuracy"));
            eval.put("loss", fmt(e, "loss"));
            eval.put("examples", e.path("examples").asLong());
            eval.put("split", e.path("split").asText());
            List<Map<String, Object>> classes = new ArrayList<>();
            for (JsonNode c : e.path("per_class")) {
                classes.add(Map.of("name", c.path("class_name").asText(), "precision", fmt(c, "precision"),
                        "recall", fmt(c, "recall"), "f1", fmt(c, "f1"), "support", c.path("support").asLong()));
            }
            eval.put("classes", classes);
            v.put("evaluation", eval);
        }
        v.put("notEvaluated", e == null && r.status() == RunIndex.Status.COMMITTED);
        if (r.report()) {
            String base = "/runs/" + RequestPath.encode(id) + "/report/";
            List<Map<String, Object>> images = new ArrayList<>();
            for (String f : view.runs().reportFiles(id)) {
                // accuracy.png and loss.png are the history the charts above draw.
                if (f.endsWith(".png") && !f.equals("accuracy.png") && !f.equals("loss.png")) {
                    images.add(Map.of("src", base + RequestPath.encode(f), "name", f));
                }
            }
            v.put("reportHref", base + "index.html");
            v.put("reportImages", images);
        }
        v.put("noReport", !r.report());
        List<Map<String, Object>> config = new ArrayList<>();
        RunIndex.flatConfig(r).forEach((k, val) -> config.add(Map.of("key", k, "value", val)));
        v.put("config", config);
        return render("run.mustache", v, 200);
    }

    Response compare(List<String> ids) throws IOException {
        if (ids.size() < 2 || ids.size() > Api.MAX_COMPARE) {
            return message(400, "Compare", "Compare takes 2 to " + Api.MAX_COMPARE + " runs (/compare?runs=A,B,C); "
                    + ids.size() + " given. Pick them on the runs page.");
        }
        List<RunIndex.Run> runs = new ArrayList<>();
        for (String id : ids) {
            Optional<RunIndex.Run> r = view.runs().run(id);
            if (r.isEmpty()) {
                return notFound("no run '" + id + "' in this warehouse");
            }
            runs.add(r.get());
        }
        List<Map<String, Object>> finals = new ArrayList<>();
        List<Map<String, String>> configs = new ArrayList<>();
        for (RunIndex.Run r : runs) {
            Map<String, Object> row = runRow(r);
            JsonNode last = r.metrics().isEmpty() ? null : r.metrics().get(r.metrics().size() - 1);
            row.put("loss", last == null ? "" : fmt(last, "loss"));
            row.put("accuracy", last == null ? "" : fmt(last, "accuracy"));
            row.put("valLoss", last == null ? "" : fmt(last, "val_loss"));
            finals.add(row);
            configs.add(RunIndex.flatConfig(r));
        }
        Set<String> keys = new LinkedHashSet<>();
        configs.forEach(c -> keys.addAll(c.keySet()));
        List<Map<String, Object>> differing = new ArrayList<>();
        for (String key : keys) {
            List<String> values = new ArrayList<>();
            configs.forEach(c -> values.add(c.getOrDefault(key, "(not set)")));
            if (values.stream().distinct().count() > 1 && !key.equals("train.run-id")) {
                differing.add(Map.of("key", key, "values", values));
            }
        }
        Map<String, Object> v = page("Compare " + ids.size() + " runs", "compare");
        v.put("runs", finals);
        v.put("runIds", String.join(",", ids.stream().map(RequestPath::encode).toList()));
        v.put("differing", differing);
        v.put("noDifference", differing.isEmpty());
        return render("compare.mustache", v, 200);
    }

    Response sweeps() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (JsonNode s : view.sweeps()) {
            Map<String, Object> row = new HashMap<>();
            row.put("id", s.path("sweep_id").asText());
            row.put("href", "/sweeps/" + RequestPath.encode(s.path("sweep_id").asText()));
            row.put("dataset", s.path("dataset").asText());
            row.put("trials", s.path("trials").asInt());
            row.put("failed", s.path("failed").asInt());
            row.put("best", s.path("best_run_id").asText(""));
            row.put("bestHref", "/runs/" + RequestPath.encode(s.path("best_run_id").asText("")));
            row.put("bestValAccuracy", fmt(s, "best_val_accuracy"));
            row.put("updated", s.path("updated_at").asText());
            rows.add(row);
        }
        return list("Sweeps", "sweeps", rows);
    }

    Response sweep(String id) throws IOException {
        Optional<JsonNode> found = view.sweep(id);
        if (found.isEmpty()) {
            return notFound("no sweep '" + id + "' in this warehouse");
        }
        JsonNode s = found.get();
        List<String> keys = new ArrayList<>();
        s.path("swept_keys").forEach(k -> keys.add(k.asText()));
        List<Map<String, Object>> rows = new ArrayList<>();
        int rank = 0;
        for (JsonNode row : s.path("leaderboard")) {
            Map<String, Object> r = new HashMap<>();
            r.put("rank", ++rank);
            r.put("id", row.path("run_id").asText());
            r.put("href", "/runs/" + RequestPath.encode(row.path("run_id").asText()));
            r.put("status", row.path("status").asText());
            List<String> values = new ArrayList<>();
            keys.forEach(k -> values.add(row.path(k).isValueNode() ? row.path(k).asText() : row.path(k).toString()));
            r.put("values", values);
            r.put("valAccuracy", fmt(row, "final_val_accuracy"));
            r.put("testAccuracy", fmt(row, "test_accuracy"));
            // The split that ranked (issue 28; sweeps before it validated on the test split) and ASHA's outcome.
            r.put("validation", row.hasNonNull("validation") ? row.path("validation").asText()
                    : dev.imgtrain.train.TrainJob.TEST_SPLIT);
            r.put("outcome", row.path("outcome").asText(""));
            r.put("epochs", row.path("epochs").asText(""));
            r.put("seconds", row.path("train_seconds").isNumber()
                    ? String.format(Locale.ROOT, "%.1f", row.path("train_seconds").asDouble()) : "");
            rows.add(r);
        }
        Map<String, Object> v = page("Sweep " + id, "sweep");
        v.put("id", id);
        v.put("apiId", RequestPath.encode(id));
        v.put("dataset", s.path("dataset").asText());
        v.put("trials", s.path("trials").asInt());
        v.put("failed", s.path("failed").asInt());
        v.put("updated", s.path("updated_at").asText());
        v.put("keys", keys);
        v.put("asha", java.util.stream.StreamSupport.stream(s.path("leaderboard").spliterator(), false)
                .anyMatch(row -> row.has("outcome")));
        v.put("rows", rows);
        return render("sweep.mustache", v, 200);
    }

    Response models() throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String dataset : view.modelDatasets()) {
            ModelRegistry.Current c = view.currentModel(dataset);
            Map<String, Object> row = new HashMap<>();
            row.put("dataset", dataset);
            row.put("href", "/models/" + RequestPath.encode(dataset));
            row.put("promotions", view.promotions(dataset).size());
            if (c != null) {
                row.put("current", current(c));
            }
            rows.add(row);
        }
        return list("Models", "models", rows);
    }

    private static Map<String, Object> current(ModelRegistry.Current c) {
        return Map.of("runId", c.runId(), "runHref", "/runs/" + RequestPath.encode(c.runId()), "accuracy", fmt(c.accuracy()),
                "promotedAt", c.promotedAt());
    }

    /** A page that is one table of {@code rows} (empty: the template says so). */
    private Response list(String title, String name, List<Map<String, Object>> rows) {
        Map<String, Object> v = page(title, name);
        v.put("rows", rows);
        v.put("empty", rows.isEmpty());
        return render(name + ".mustache", v, 200);
    }

    Response model(String dataset) throws IOException {
        if (!view.modelDatasets().contains(dataset)) {
            return notFound("no model of dataset '" + dataset + "' in this warehouse (nothing was promoted)");
        }
        ModelRegistry.Current c = view.currentModel(dataset);
        List<Map<String, Object>> history = new ArrayList<>();
        List<JsonNode> promotions = new ArrayList<>(view.promotions(dataset));
        java.util.Collections.reverse(promotions);
        for (JsonNode p : promotions) {
            Map<String, Object> row = new HashMap<>();
            row.put("when", p.path("promoted_at").asText());
            row.put("runId", p.path("run_id").asText());
            row.put("runHref", "/runs/" + RequestPath.encode(p.path("run_id").asText()));
            row.put("accuracy", fmt(p, "accuracy"));
            if (p.hasNonNull("previous_run_id")) {
                row.put("previous", Map.of("runId", p.path("previous_run_id").asText(),
                        "runHref", "/runs/" + RequestPath.encode(p.path("previous_run_id").asText()),
                        "accuracy", fmt(p, "previous_accuracy")));
            }
            row.put("forced", p.path("forced").asBoolean() ? "forced" : "");
            history.add(row);
        }
        Map<String, Object> v = page("Model " + dataset, "model");
        v.put("dataset", dataset);
        if (c != null) {
            v.put("current", current(c));
        }
        v.put("history", history);
        return render("model.mustache", v, 200);
    }

    Response datasets() throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String name : view.datasets()) {
            JsonNode m = view.manifest(name).orElseThrow();
            Map<String, Object> row = new HashMap<>();
            row.put("name", name);
            row.put("href", "/datasets/" + RequestPath.encode(name));
            row.put("shape", m.path("shape").toString());
            row.put("classes", m.path("classes").size());
            row.put("train", m.path("counts").path("train").asLong());
            row.put("test", m.path("counts").path("test").asLong());
            rows.add(row);
        }
        return list("Datasets", "datasets", rows);
    }

    Response dataset(String name) throws IOException {
        Optional<JsonNode> found = view.manifest(name);
        if (found.isEmpty()) {
            return notFound("no dataset '" + name + "' in this warehouse");
        }
        JsonNode m = found.get();
        Map<String, Object> v = page("Dataset " + name, "dataset");
        v.put("name", name);
        v.put("shape", m.path("shape").toString());
        v.put("layout", m.path("pixel_layout").asText());
        v.put("samplesSrc", "/datasets/" + RequestPath.encode(name) + "/samples.png");
        List<Map<String, Object>> classes = new ArrayList<>();
        for (JsonNode c : m.path("classes")) {
            classes.add(Map.of("name", c.asText(), "train", m.path("class_counts").path("train").path(c.asText()).asText(""),
                    "test", m.path("class_counts").path("test").path(c.asText()).asText("")));
        }
        v.put("classes", classes);
        List<Map<String, Object>> counts = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = m.path("counts").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            counts.add(Map.of("split", e.getKey(), "count", e.getValue().asLong()));
        }
        v.put("counts", counts);
        List<Map<String, Object>> sources = new ArrayList<>();
        for (JsonNode s : m.path("sources")) {
            sources.add(Map.of("file", s.path("file").asText(), "bytes", s.path("bytes").asLong(),
                    "sha256", s.path("sha256").asText()));
        }
        v.put("sources", sources);
        return render("dataset.mustache", v, 200);
    }

    Response notFound(String message) {
        return message(404, "Not found", message);
    }

    Response unreachable(String message) {
        return message(503, "Warehouse unreachable", "The warehouse " + view.uri() + " cannot be read: " + message
                + ". The server keeps running; reload when it is reachable again.");
    }

    private Response message(int status, String title, String message) {
        Map<String, Object> v = page(title, "message");
        v.put("message", message);
        return render("message.mustache", v, status);
    }

    private Map<String, Object> page(String title, String name) {
        Map<String, Object> v = new HashMap<>();
        v.put("title", title);
        v.put("page", name);
        v.put("warehouse", view.uri());
        return v;
    }

    private static Response render(String template, Map<String, Object> view, int status) {
        Mustache mustache = TEMPLATES.compile(template);
        StringWriter out = new StringWriter();
        mustache.execute(out, view);
        return new Response(status, Response.HTML, out.toString().getBytes(StandardCharsets.UTF_8), "no-store");
    }

    private static String fmt(Double value) {
        return value == null || value.isNaN() ? "" : String.format(Locale.ROOT, "%.4f", value);
    }

    private static String fmt(JsonNode node, String key) {
        return node.path(key).isNumber() ? fmt(node.path(key).asDouble()) : "";
    }
}
