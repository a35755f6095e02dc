package dev.imgtrain.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The sweeps of a warehouse ({@code sweeps/<id>/sweep.json}, written when a sweep ends) and their leaderboards. No Spark. */
public final class SweepCatalog {
    private final Warehouse warehouse;

    public SweepCatalog(Warehouse warehouse) {
        this.warehouse = warehouse;
    }

    /** Each sweep's summary (sweep.json), sorted by id. */
    public List<JsonNode> list() {
        List<JsonNode> sweeps = new ArrayList<>();
        Path root = new Path(warehouse.root(), "sweeps");
        try {
            if (!warehouse.fs().exists(root)) {
                return sweeps;
            }
            for (FileStatus s : warehouse.fs().listStatus(root)) {
                Path summary = new Path(s.getPath(), "sweep.json");
                if (s.isDirectory() && warehouse.exists(summary)) {
                    sweeps.add(warehouse.readJson(summary, JsonNode.class));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(root + ": " + e.getMessage(), e);
        }
        sweeps.sort(java.util.Comparator.comparing(n -> n.path("sweep_id").asText()));
        return sweeps;
    }

    /** The summary, the leaderboard rows (best first) and the page of one sweep. */
    public JsonNode show(String sweepId) {
        Path dir = SweepJob.sweepDir(warehouse, sweepId);
        if (!warehouse.exists(new Path(dir, "sweep.json"))) {
            throw new IllegalStateException("sweep '" + sweepId + "' not found in " + warehouse.root() + " (no "
                    + new Path(dir, "sweep.json") + "); `imgtrain sweeps list` shows the sweeps there");
        }
        com.fasterxml.jackson.databind.node.ObjectNode node = warehouse.readJson(new Path(dir, "sweep.json"),
                com.fasterxml.jackson.databind.node.ObjectNode.class);
        node.set("leaderboard", warehouse.readJson(new Path(dir, "leaderboard.json"), JsonNode.class));
        node.put("page", new Path(dir, "index.html").toString());
        return node;
    }
}
