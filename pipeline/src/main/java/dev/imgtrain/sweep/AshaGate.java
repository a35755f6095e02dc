package dev.imgtrain.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.EpochMetrics;
import dev.imgtrain.train.TrainJob;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * ASHA (asynchronous successive halving, Li et al., MLSys 2020, Algorithm 2) for one sweep: which trial trains next, and
 * what a trial does when it reaches a rung.
 *
 * <p>A trial trains until its first rung ({@code min-epochs}), records its metric there and pauses: its run stays
 * uncommitted with its checkpoint (TrainJob's {@link TrainJob.EpochGate#PAUSE}). Whenever a slot is free
 * ({@code --parallel N} slots), {@link #next} looks from the highest rung down for a paused trial that is among the
 * best {@code floor(n / eta)} of the {@code n} results at its rung and not yet promoted, and promotes it: it resumes
 * from its checkpoint and trains to the next rung (never from epoch 1). A trial whose own promotion is what its slot
 * would be given next does not pause: the same promotion is recorded and it trains on with the network it holds. Only
 * when none can be promoted does a new trial start. A trial that reaches {@code max-epochs} is committed as completed.
 * When no trial is left to start and none can be promoted, the paused ones are committed where they stopped ("stopped
 * at rung k").
 *
 * <p>Every result and promotion is appended, in the order it happened, to {@code sweeps/<id>/asha.jsonl} (rewritten
 * whole, atomically, before the trial goes on). A sweep run again (after a kill) rebuilds this state from it: trials
 * in flight at the kill are resumed first, in the order they started, and the decisions made stand; with
 * {@code --parallel 1} it then ends as the uninterrupted sweep would have.
 */
final class AshaGate implements TrainJob.EpochGate {
    private static final Logger LOG = LoggerFactory.getLogger(AshaGate.class);

    /** One event: a trial's {@code metric} at a rung ("result"), or its promotion from a rung ("promotion"). */
    record Event(int order, String event, String runId, int rung, int epochs, double metric, String at) {
        boolean result() {
            return event.equals("result");
        }
    }

    /** What a slot does next: train {@code runId} (start it, continue it, or commit it where it paused). */
    record Job(String runId, String kind) {
    }

    private final SweepSpec.Asha asha;
    private final Warehouse warehouse;
    private final Path file;
    private final List<String> order;
    private final List<Event> events = new ArrayList<>();
    private final Set<String> running = new LinkedHashSet<>();
    private final Set<String> finished = new LinkedHashSet<>();
    private boolean finishing;

    /** {@code trials}: the run ids in the order they start; {@code done}: those already committed. */
    AshaGate(SweepSpec.Asha asha, Warehouse warehouse, Path sweepDir, List<String> trials, Set<String> done) {
        this.asha = asha;
        this.warehouse = warehouse;
        this.file = new Path(sweepDir, "asha.jsonl");
        this.order = List.copyOf(trials);
        this.finished.addAll(done);
        events.addAll(read(warehouse, file));
        if (!events.isEmpty()) {
            LOG.info("ASHA: {} results and promotions recorded before in {}; they stand", events.size(), file);
        }
    }

    static List<Event> read(Warehouse warehouse, Path file) {
        List<Event> read = new ArrayList<>();
        if (!warehouse.exists(file)) {
            return read;
        }
        try (java.io.InputStream in = warehouse.fs().open(file)) {
            for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    JsonNode j = Warehouse.JSON.readTree(line);
                    read.add(new Event(j.path("order").asInt(), j.path("event").asText(), j.path("run_id").asText(),
                            j.path("rung").asInt(), j.path("epochs").asInt(), j.path("metric").asDouble(Double.NaN),
                            j.path("at").asText()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read ASHA's record: " + e.getMessage(), e);
        }
        return read;
    }

    // ---- the gate: asked by a trial's training after every epoch ----

    @Override
    public synchronized String afterEpoch(String runId, EpochMetrics epoch) {
        int rung = asha.rungs().indexOf(epoch.epoch());
        if (rung < 0) {
            return null;
        }
        if (find("result", runId, rung) == null) {
            double value = asha.metric().equals("val_loss") ? epoch.valLoss() : epoch.valAccuracy();
            record(new Event(events.size() + 1, "result", runId, rung, epoch.epoch(), value, Instant.now().toString()));
            LOG.info("ASHA: {} reached rung {} ({} epoch{}): {} {}", runId, rung, epoch.epoch(),
                    epoch.epoch() == 1 ? "" : "s", asha.metric(), fmt(value));
        }
        if (find("promotion", runId, rung) != null) {
            return null;
        }
        if (finishing) {
            return stopReason(runId, rung);
        }
        if (promotesItself(runId)) {
            // The job this trial's slot would be given next is this trial's promotion: it goes on with the network it
            // holds instead of pausing, being committed nothing, and resuming from the checkpoint it just wrote.
            promote(runId, rung);
            return null;
        }
        return PAUSE;
    }

    /**
     * Whether {@link #next}, asked by {@code runId}'s slot once the trial paused, would promote {@code runId} itself:
     * no trial of a killed sweep is waiting to continue, and the first promotable trial, looking from the highest rung
     * down, is this one.
     */
    private boolean promotesItself(String runId) {
        if (waitingInFlight() != null) {
            return false;
        }
        for (int rung = asha.rungs().size() - 1; rung >= 0; rung--) {
            String promote = promotable(rung, runId);
            if (promote != null) {
                return promote.equals(runId);
            }
        }
        return false;
    }

    private void promote(String runId, int rung) {
        record(new Event(events.size() + 1, "promotion", runId, rung, asha.rungs().get(rung), Double.NaN,
                Instant.now().toString()));
        LOG.info("ASHA: {} promoted from rung {} to {}", runId, rung, rung + 1 < asha.rungs().size()
                ? "rung " + (rung + 1) : asha.maxEpochs() + " epochs");
    }

    private String stopReason(String runId, int rung) {
        Event mine = find("result", runId, rung);
        List<Event> here = results(rung);
        int rank = 1 + (int) here.stream().filter(e -> better(e.metric(), mine.metric())).count();
        return String.format(Locale.ROOT, "ASHA: stopped at rung %d (%d epoch%s): %s %s ranked %d of the %d trials there, "
                        + "the best %d were promoted", rung, mine.epochs(), mine.epochs() == 1 ? "" : "s", asha.metric(),
                fmt(mine.metric()), rank, here.size(), kept(here.size()));
    }

    // ---- the scheduler: asked by a free slot ----

    /**
     * The next job, or null when a slot should wait for a running one (which may make a promotion possible), or a
     * job of kind "done" when the sweep is over.
     */
    synchronized Job next() {
        if (finishing) {
            return finish();
        }
        String resumed = waitingInFlight();
        if (resumed != null) {
            return start(resumed, "continue");
        }
        for (int rung = asha.rungs().size() - 1; rung >= 0; rung--) {
            String promote = promotable(rung, null);
            if (promote != null) {
                promote(promote, rung);
                return start(promote, "continue");
            }
        }
        for (String id : order) {
            if (!finished.contains(id) && !running.contains(id) && !started(id)) {
                return start(id, "start");
            }
        }
        if (!running.isEmpty()) {
            return null;
        }
        finishing = true;
        LOG.info("ASHA: no trial left to start or promote; committing the paused ones where they stopped");
        return finish();
    }

    /** The end: each paused trial committed at its rung (its training resumes and is told to stop there). */
    private Job finish() {
        for (String id : order) {
            if (!finished.contains(id) && !running.contains(id)) {
                return start(id, "stop");
            }
        }
        return running.isEmpty() ? new Job(null, "done") : null;
    }

    /** A slot's job ended: committed (or failed), or paused at a rung. */
    synchronized void ended(Job job, boolean committed) {
        running.remove(job.runId());
        if (committed) {
            finished.add(job.runId());
        }
        notifyAll();
    }

    /** Blocks until there is a job for a free slot. */
    synchronized Job take() throws InterruptedException {
        while (true) {
            Job job = next();
            if (job != null) {
                return job;
            }
            wait();
        }
    }

    private Job start(String id, String kind) {
        running.add(id);
        return new Job(id, kind);
    }

    /** Started: a result or a promotion recorded for it. */
    private boolean started(String id) {
        return events.stream().anyMatch(e -> e.runId().equals(id));
    }

    /**
     * The first trial in flight when a sweep was killed (promoted without a result at the next rung yet) that no slot
     * has taken up again; null when none.
     */
    private String waitingInFlight() {
        for (String id : order) {
            if (!finished.contains(id) && !running.contains(id) && inFlight(id)) {
                return id;
            }
        }
        return null;
    }

    /** Promoted from its highest result's rung without a result at the next one yet. */
    private boolean inFlight(String id) {
        int top = topRung(id);
        return top >= 0 && find("promotion", id, top) != null;
    }

    /** The highest rung {@code runId} recorded a result at; -1 before its first. */
    private int topRung(String runId) {
        int top = -1;
        for (Event e : events) {
            if (e.runId().equals(runId) && e.result()) {
                top = Math.max(top, e.rung());
            }
        }
        return top;
    }

    /**
     * The best paused trial at {@code rung} among its best floor(n / eta), not yet promoted; null when none.
     * {@code asking}, when not null, is a running trial that counts as paused (it has just reached the rung).
     */
    private String promotable(int rung, String asking) {
        List<Event> here = new ArrayList<>(results(rung));
        int kept = kept(here.size());
        here.sort(Comparator.comparingDouble((Event e) -> asha.mode().equals("max") ? -e.metric() : e.metric())
                .thenComparingInt(Event::order));
        for (Event e : here.subList(0, kept)) {
            if (find("promotion", e.runId(), rung) == null && (!running.contains(e.runId()) || e.runId().equals(asking))
                    && !finished.contains(e.runId())) {
                return e.runId();
            }
        }
        return null;
    }

    /** How many of {@code n} results at a rung may be promoted: floor(n / eta). */
    private int kept(int n) {
        return n / asha.reductionFactor();
    }

    /** Whether ASHA stopped {@code runId} at a rung: its highest result was not promoted (it did not complete). */
    synchronized boolean stoppedAtRung(String runId) {
        int top = topRung(runId);
        return top >= 0 && find("promotion", runId, top) == null;
    }

    private List<Event> results(int rung) {
        return events.stream().filter(e -> e.result() && e.rung() == rung).toList();
    }

    private boolean better(double a, double b) {
        return asha.mode().equals("max") ? a > b : a < b;
    }

    private Event find(String kind, String runId, int rung) {
        for (Event e : events) {
            if (e.event().equals(kind) && e.runId().equals(runId) && e.rung() == rung) {
                return e;
            }
        }
        return null;
    }

    private void record(Event e) {
        events.add(e);
        StringBuilder s = new StringBuilder();
        try {
            for (Event x : events) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("order", x.order());
                m.put("event", x.event());
                m.put("run_id", x.runId());
                m.put("rung", x.rung());
                m.put("epochs", x.epochs());
                if (x.result()) {
                    m.put("metric", x.metric());
                }
                m.put("at", x.at());
                s.append(Warehouse.JSON.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m)).append('\n');
            }
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        warehouse.writeText(file, s.toString());
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
