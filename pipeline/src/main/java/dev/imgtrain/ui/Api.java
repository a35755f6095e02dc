package dev.imgtrain.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgtrain.registry.ModelRegistry;
import dev.imgtrain.store.Warehouse;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON API under the pages (docs/operations.md lists it): {@code /api/runs}, {@code /api/runs/ID},
 * {@code /api/runs/ID/metrics}, {@code /api/compare?runs=A,B}, {@code /api/sweeps}, {@code /api/sweeps/ID},
 * {@code /api/models}, {@code /api/models/DATASET}, {@code /api/datasets}, {@code /api/datasets/DATASET}. Unknown
 * names answer 404 with {@code {"error": ...}}; secrets in a run's configuration are masked.
 */
final class Api {
    static final int MAX_COMPARE = 10;
    private final WarehouseView view;

    Api(WarehouseView view) {
        this.view = view;
    }

    Response answer(List<String> p, Map<String, List<String>> query) throws IOException {
        String what = p.isEmpty() ? "" : p.get(0);
        switch (what) {
            case "runs":
                if (p.size() == 1) {
                    ArrayNode runs = Warehouse.JSON.createArrayNode();
                    view.runs().runs().forEach(r -> runs.add(RunIndex.json(r, false)));
                    return Response.json(runs);
                }
                if (p.size() == 2 || p.size() == 3 && p.get(2).equals("metrics")) {
                    Optional<RunIndex.Run> run = view.runs().run(p.get(1));
                    if (run.isEmpty()) {
                        return notFound("no run '" + p.get(1) + "'");
                    }
                    return Response.json(p.size() == 2 ? RunIndex.json(run.get(), true) : metrics(run.get()));
                }
                break;
            case "compare":
                if (p.size() == 1) {
                    List<String> ids = runIds(query);
                    ArrayNode runs = Warehouse.JSON.createArrayNode();
                    for (String id : ids) {
                        Optional<RunIndex.Run> run = view.runs().run(id);
                        if (run.isEmpty()) {
                            return notFound("no run '" + id + "'");
                        }
                        runs.add(metrics(run.get()));
                    }
                    return Response.json(runs);
                }
                break;
            case "sweeps":
                if (p.size() == 1) {
                    return Response.json(view.sweeps());
                }
                if (p.size() == 2) {
                    Optional<JsonNode> sweep = view.sweep(p.get(1));
                    if (sweep.isEmpty()) {
                        return notFound("no sweep '" + p.get(1) + "'");
                    }
                    ObjectNode s = ((ObjectNode) sweep.get()).deepCopy();
                    s.remove("page");
                    ArrayNode curves = s.putArray("trials");
                    for (JsonNode row : s.path("leaderboard")) {
                        view.runs().run(row.path("run_id").asText()).ifPresent(r -> curves.add(metrics(r)));
                    }
                    return Response.json(s);
                }
                break;
            case "models":
                if (p.size() == 1) {
                    ArrayNode models = Warehouse.JSON.createArrayNode();
                    for (String dataset : view.modelDatasets()) {
                        models.add(model(dataset));
                    }
                    return Response.json(models);
                }
                if (p.size() == 2) {
                    if (!view.modelDatasets().contains(p.get(1))) {
                        return notFound("no model of dataset '" + p.get(1) + "'");
                    }
                    return Response.json(model(p.get(1)));
                }
                break;
            case "datasets":
                if (p.size() == 1) {
                    ArrayNode datasets = Warehouse.JSON.createArrayNode();
                    for (String name : view.datasets()) {
                        view.manifest(name).ifPresent(datasets::add);
                    }
                    return Response.json(datasets);
                }
                if (p.size() == 2) {
                    return view.manifest(p.get(1)).map(Response::json)
                            .orElseGet(() -> notFound("no dataset '" + p.get(1) + "'"));
                }
                break;
            default:
                break;
        }
        return notFound("no API endpoint /api/" + String.join("/", p));
    }

    /** A run's history for charts: id, status, epochs done and asked, one object per epoch. */
    static ObjectNode metrics(RunIndex.Run r) {
        ObjectNode o = Warehouse.JSON.createObjectNode();
        o.put("run_id", r.id());
        o.put("status", r.status().label());
        o.put("epochs_asked", r.epochsAsked());
        ArrayNode m = o.putArray("metrics");
        r.metrics().forEach(m::add);
        return o;
    }

    ObjectNode model(String dataset) {
        ObjectNode o = Warehouse.JSON.createObjectNode();
        o.put("dataset", dataset);
        ModelRegistry.Current current = view.currentModel(dataset);
        o.putPOJO("current", current);
        ArrayNode history = o.putArray("promotions");
        view.promotions(dataset).forEach(history::add);
        return o;
    }

    /** The run ids a compare URL names: {@code runs=A,B,C} and/or repeated {@code run=A}, in order, without repeats. */
    static List<String> runIds(Map<String, List<String>> query) {
        LinkedHashSet<String> ids = new LinkedHashSet<>();
        ids.addAll(query.getOrDefault("runs", List.of()));
        ids.addAll(query.getOrDefault("run", List.of()));
        return new ArrayList<>(ids);
    }

    private static Response notFound(String message) {
        return Response.json(404, Map.of("error", message));
    }
}
