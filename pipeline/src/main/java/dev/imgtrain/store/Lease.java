package dev.imgtrain.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.fs.FSDataOutputStream;
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
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A small file in the warehouse that says "a live process holds this": a run's lock ({@code _locks/run-<id>.lock}) or
 * a scratch directory's owner ({@code _tmp/<name>.owner}). It names its holder (pid, host, process start, what for)
 * and is rewritten every {@link #HEARTBEAT} while held, so its modification time is the last sign of life.
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

    private Lease(Warehouse warehouse, Path file, ObjectNode content) {
        this.warehouse = warehouse;
        this.file = file;
        this.content = content;
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
     * Takes the lock {@code file} for {@code what}, or throws {@link HeldException} naming its live holder. A lock whose
     * holder is dead is taken over (logged). Creation is exclusive where the file system can make it so (see
     * {@link Warehouse#createExclusively}).
     */
    public static Lease acquire(Warehouse warehouse, Path file, String what) {
        ObjectNode content = content(what);
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                warehouse.createExclusively(file, bytes(content));
                return hold(new Lease(warehouse, file, content));
            } catch (org.apache.hadoop.fs.FileAlreadyExistsException exists) {
                Optional<Holder> holder = holder(warehouse, file);
                if (holder.isEmpty()) {
                    continue; // released meanwhile
                }
                if (holder.get().alive()) {
                    throw new HeldException(file + " is held by " + holder.get().describe(), holder.get());
                }
                LOG.warn("taking over {} from a dead holder: {}", file, holder.get().describe());
                warehouse.deleteQuietly(file);
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot create: " + e.getMessage(), e);
            }
        }
        throw new IllegalStateException(file + ": could not be taken in three attempts (other processes keep taking it)");
    }

    /** Marks {@code file} as owned by this process for {@code what} (no exclusivity: scratch names are unique). */
    public static Lease create(Warehouse warehouse, Path file, String what) {
        ObjectNode content = content(what);
        warehouse.writeAtomically(file, bytes(content));
        return hold(new Lease(warehouse, file, content));
    }

    /** Who holds {@code file}, or empty when it does not exist. Unreadable content counts as alive until stale. */
    public static Optional<Holder> holder(Warehouse warehouse, Path file) {
        try {
            FileStatus status = warehouse.fs().getFileStatus(file);
            Duration silent = Duration.ofMillis(Math.max(0, System.currentTimeMillis() - status.getModificationTime()));
            boolean fresh = silent.compareTo(warehouse.staleAfter()) < 0;
            JsonNode json;
            try (InputStream in = warehouse.fs().open(file)) {
                json = Warehouse.JSON.readTree(in);
            } catch (IOException unreadable) {
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
        } catch (FileNotFoundException gone) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    /** Stops the heartbeat and deletes the lease file (quietly: a lease that cannot be deleted goes stale). */
    @Override
    public void close() {
        if (HELD.remove(this) != null) {
            warehouse.deleteQuietly(file);
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
                    s.scheduleWithFixedDelay(Lease::beatAll, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
                    beat = s;
                }
            }
        }
        return lease;
    }

    private static void beatAll() {
        for (Lease lease : HELD.keySet()) {
            try {
                lease.content.put("heartbeat_at", Instant.now().toString());
                try (FSDataOutputStream out = lease.warehouse.fs().create(lease.file, true)) {
                    out.write(bytes(lease.content));
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("lease {}: heartbeat failed: {}", lease.file, e.toString());
            }
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
