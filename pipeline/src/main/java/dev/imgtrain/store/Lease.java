package dev.imgtrain.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A small file in the warehouse that says "a live process holds this": a run's lock ({@code _locks/run-<id>.lock}) or
 * a scratch directory's owner ({@code _tmp/<name>.owner}). It names its holder (pid, host, process start, what for)
 * and is rewritten every {@link #HEARTBEAT} (a third of a shorter {@code storage.stale-after}) while held, so its
 * modification time is the last sign of life. Each rewrite is conditional on the file still being the one this process
 * wrote last (S3: {@code If-Match} on its ETag): a holder that was silent too long and taken over finds out at its next
 * heartbeat or {@link #verify} and stops ({@link LostException}) instead of overwriting the new holder's lease.
 * A holder is dead when it ran on this host and its process is gone (pid and start time), or when its lease has not
 * been rewritten for the warehouse's stale age (the only test across hosts: a driver in a YARN container, a killed
 * cluster-mode driver). A dead holder's lock is taken over and its scratch removed; a live one's never.
 */
public final class Lease implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Lease.class);
    static final Duration HEARTBEAT = Duration.ofSeconds(20);
    private static final Map<Lease, Boolean> HELD = new ConcurrentHashMap<>();
    private static volatile ScheduledExecutorService beat;

    private final Warehouse warehouse;
    private final Path file;
    private final ObjectNode content;
    private final Duration every;
    /** What this process last wrote to the file, and the version it was written as (S3's ETag, or ""). */
    private byte[] written;
    private String version;
    private long renewedAt = System.nanoTime();
    private volatile LostException lost;
    private final List<Runnable> onLost = new CopyOnWriteArrayList<>();

    private Lease(Warehouse warehouse, Path file, ObjectNode content, byte[] written, String version) {
        this.warehouse = warehouse;
        this.file = file;
        this.content = content;
        this.written = written;
        this.version = version;
        this.every = heartbeat(warehouse.staleAfter());
    }

    /** How often a lease is rewritten: every {@link #HEARTBEAT}, or a third of a shorter stale age. */
    static Duration heartbeat(Duration staleAfter) {
        Duration third = staleAfter.dividedBy(3);
        return third.compareTo(HEARTBEAT) < 0 ? third : HEARTBEAT;
    }

    /** The holder a lease file names, and how long ago it was last rewritten. */
    public record Holder(long pid, String host, String startedAt, String what, Duration silentFor, boolean alive) {
        public String describe() {
            return "pid " + pid + " on " + host + " (" + what + ", since " + startedAt + ", last heard from "
                    + silentFor.toSeconds() + " s ago)";
        }
    }

    /** Thrown when a lock is held by a live process. */
    public static final class HeldException extends IllegalStateException {
        private final Holder holder;

        HeldException(String message, Holder holder) {
            super(message);
            this.holder = holder;
        }

        public Holder holder() {
            return holder;
        }
    }

    /**
     * Thrown where a holder finds that its lease was taken over (it was silent past {@code storage.stale-after}, e.g.
     * stopped or cut off, and another process took the lock): it must stop and commit nothing more.
     */
    public static final class LostException extends IllegalStateException {
        LostException(String message) {
            super(message);
        }
    }

    /**
     * Takes the lock {@code file} for {@code what}, or throws {@link HeldException} naming its live holder. A lock whose
     * holder is dead is taken over (logged). Creation is atomic ({@link Warehouse#createExclusively}: S3's conditional
     * PUT on s3a:), and of several processes taking over the same dead lease at once one gets it
     * ({@link Warehouse#takeOver}: an exclusive claim first).
     */
    public static Lease acquire(Warehouse warehouse, Path file, String what) {
        ObjectNode content = content(what);
        byte[] bytes = bytes(content);
        // Another process may be between its take-over claim and its rewrite, or releasing: look again a little later,
        // for up to half a minute.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
            if (attempt > 0) {
                try {
                    Thread.sleep(Math.min(200, 20L * attempt));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while taking " + file, e);
                }
            }
            try {
                Lease taken = tryToTake(warehouse, file, content, bytes);
                if (taken != null) {
                    return taken;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot create: " + e.getMessage(), e);
            }
        }
        throw new IllegalStateException(file + ": could not be taken within 30 s (other processes keep taking it)");
    }

    /**
     * One try: the lock created, or a dead holder's taken over; null when the file changed meanwhile (released, or
     * another process is taking it over) and it is worth looking again; {@link HeldException} for a live holder.
     */
    private static Lease tryToTake(Warehouse warehouse, Path file, ObjectNode content, byte[] bytes) throws IOException {
        try {
            return hold(new Lease(warehouse, file, content, bytes, warehouse.createExclusively(file, bytes)));
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException exists) {
            FileStatus seen;
            try {
                seen = warehouse.fs().getFileStatus(file);
            } catch (FileNotFoundException released) {
                return null;
            }
            Optional<Holder> holder = holder(warehouse, file, seen);
            if (holder.isEmpty()) {
                return null; // released meanwhile
            }
            if (holder.get().alive()) {
                throw new HeldException(file + " is held by " + holder.get().describe(), holder.get());
            }
            LOG.warn("taking over {} from a dead holder: {}", file, holder.get().describe());
            String version = warehouse.takeOver(file, seen, bytes);
            return version == null ? null : hold(new Lease(warehouse, file, content, bytes, version));
        }
    }

    /**
     * Runs {@code action} (on the heartbeat's thread) when this process finds it lost the lease, e.g. to cancel the
     * work the lease guards. {@link #verify} then throws.
     */
    public void onLost(Runnable action) {
        onLost.add(action);
    }

    /**
     * Checks, by reading the lease file, that this process still holds it; call it before each write the lease
     * guards. Throws {@link LostException} ("lost the run lock to pid P on HOST ...") otherwise.
     */
    public void verify() {
        if (lost == null) {
            boolean mine;
            try {
                mine = stillMine();
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
            }
            if (!mine) {
                markLost();
            }
        }
        if (lost != null) {
            throw lost;
        }
    }

    /** Whether the lease file is still what this process last wrote (not while a heartbeat rewrites it). */
    private synchronized boolean stillMine() throws IOException {
        return warehouse.unchanged(file, version, written);
    }

    /** The exception {@link #verify} throws once the lease was found lost, or null while it is held. */
    public LostException lost() {
        return lost;
    }

    private synchronized void markLost() {
        if (lost != null) {
            return;
        }
        Optional<Holder> now;
        try {
            now = holder(warehouse, file);
        } catch (RuntimeException unreadable) {
            now = Optional.empty();
        }
        String label = file.getName().startsWith("run-") ? "run lock" : "lock " + file.getName();
        lost = new LostException("lost the " + label + " to " + now.map(h -> "pid " + h.pid() + " on " + h.host())
                .orElse("another process (the lock is gone)") + ": " + file + " was taken over while this process was "
                + "silent for longer than storage.stale-after (" + warehouse.staleAfter().toSeconds() + " s); nothing more "
                + "is written by this process");
        LOG.error("{}", lost.getMessage());
        HELD.remove(this);
        for (Runnable action : onLost) {
            try {
                action.run();
            } catch (RuntimeException e) {
                LOG.debug("lease {}: on-lost action failed: {}", file, e.toString());
            }
        }
    }

    /** Marks {@code file} as owned by this process for {@code what} (no exclusivity: scratch names are unique). */
    public static Lease create(Warehouse warehouse, Path file, String what) {
        ObjectNode content = content(what);
        byte[] bytes = bytes(content);
        warehouse.writeAtomically(file, bytes);
        return hold(new Lease(warehouse, file, content, bytes, ""));
    }

    /** Who holds {@code file}, or empty when it does not exist. Unreadable content counts as alive until stale. */
    public static Optional<Holder> holder(Warehouse warehouse, Path file) {
        try {
            return holder(warehouse, file, warehouse.fs().getFileStatus(file));
        } catch (FileNotFoundException gone) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Optional<Holder> holder(Warehouse warehouse, Path file, FileStatus status) {
        Duration silent = Duration.ofMillis(Math.max(0, System.currentTimeMillis() - status.getModificationTime()));
        boolean fresh = silent.compareTo(warehouse.staleAfter()) < 0;
        JsonNode json;
        try (InputStream in = warehouse.fs().open(file)) {
            json = Warehouse.JSON.readTree(in);
        } catch (FileNotFoundException gone) {
            return Optional.empty();
        } catch (IOException unreadable) {
            // Rewritten between the status and the read (S3A's change detection refuses the new version): look again.
            try {
                FileStatus now = warehouse.fs().getFileStatus(file);
                if (!warehouse.sameVersion(now, status)) {
                    return holder(warehouse, file, now);
                }
            } catch (FileNotFoundException gone) {
                return Optional.empty();
            } catch (IOException again) {
                // unreadable as it is
            }
            return Optional.of(new Holder(-1, "?", "?", "unreadable lease", silent, fresh));
        }
        long pid = json.path("pid").asLong(-1);
        String host = json.path("host").asText("?");
        boolean alive = fresh;
        if (fresh && host.equals(hostName()) && pid > 0) {
            alive = ProcessHandle.of(pid)
                    .filter(ProcessHandle::isAlive)
                    .map(p -> p.info().startInstant().map(Instant::toString)
                            .map(s -> s.equals(json.path("process_started_at").asText(s))).orElse(true))
                    .orElse(false);
        }
        return Optional.of(new Holder(pid, host, json.path("started_at").asText("?"), json.path("what").asText("?"),
                silent, alive));
    }

    public Path file() {
        return file;
    }

    /**
     * Stops the heartbeat and deletes the lease file while it is still this process's (quietly: a lease that cannot
     * be deleted goes stale); a lease taken over by another process is left to it.
     */
    @Override
    public void close() {
        if (HELD.remove(this) != null && lost == null) {
            boolean mine;
            try {
                // A store found unreachable is not asked again (each request would wait out its retries, 13 s in
                // ObjectStorageIT's outage): the lease goes stale there, as it did before the ownership check.
                mine = warehouse.foundUnreachable() || stillMine();
            } catch (IOException e) {
                mine = true; // unreadable: delete as before (deleteQuietly logs when it cannot either)
            }
            if (mine) {
                warehouse.deleteQuietly(file);
            } else {
                markLost();
            }
        }
    }

    private static Lease hold(Lease lease) {
        HELD.put(lease, Boolean.TRUE);
        if (beat == null) {
            synchronized (Lease.class) {
                if (beat == null) {
                    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
                        Thread t = new Thread(r, "imgtrain-lease-heartbeat");
                        t.setDaemon(true);
                        return t;
                    });
                    s.scheduleWithFixedDelay(Lease::beatAll, 1, 1, TimeUnit.SECONDS);
                    beat = s;
                }
            }
        }
        return lease;
    }

    /** Rewrites each held lease whose interval has passed, unless it is no longer this process's (then: lost). */
    private static void beatAll() {
        for (Lease lease : HELD.keySet()) {
            if (System.nanoTime() - lease.renewedAt < lease.every.toNanos()) {
                continue;
            }
            try {
                lease.renew();
            } catch (IOException | RuntimeException e) {
                LOG.debug("lease {}: heartbeat failed: {}", lease.file, e.toString());
            }
        }
    }

    private void renew() throws IOException {
        String next;
        synchronized (this) {
            content.put("heartbeat_at", Instant.now().toString());
            byte[] bytes = bytes(content);
            next = warehouse.replaceIfUnchanged(file, bytes, version, written);
            if (next != null) {
                written = bytes;
                version = next;
                renewedAt = System.nanoTime();
            }
        }
        if (next == null) {
            markLost();
        }
    }

    private static ObjectNode content(String what) {
        ProcessHandle self = ProcessHandle.current();
        ObjectNode c = Warehouse.JSON.createObjectNode();
        c.put("pid", self.pid());
        c.put("host", hostName());
        c.put("process_started_at", self.info().startInstant().map(Instant::toString).orElse(""));
        c.put("started_at", Instant.now().toString());
        c.put("what", what);
        c.put("token", UUID.randomUUID().toString());
        return c;
    }

    private static byte[] bytes(ObjectNode content) {
        try {
            return Warehouse.JSON.writeValueAsBytes(content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static volatile String host;

    static String hostName() {
        if (host == null) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "unknown-host";
            }
        }
        return host;
    }
}
