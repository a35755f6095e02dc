package dev.imgtrain.store;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Run locks and scratch owners: a live holder is never displaced, a dead one always is (issue 17). */
class LeaseTest {
    private static Warehouse warehouse(java.nio.file.Path dir) {
        return new Warehouse(dir.toString(), new Configuration(), Duration.ofMinutes(1));
    }

    /** The pid of a process that has exited. */
    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return p.pid();
    }

    private static void lease(java.nio.file.Path file, long pid, String host) throws Exception {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"pid\": " + pid + ", \"host\": \"" + host + "\", \"started_at\": \"2026-01-01T00:00:00Z\","
                + " \"what\": \"train r\"}");
    }

    @Test
    void aLiveHolderKeepsTheLockAndIsNamed(@TempDir java.nio.file.Path tmp) {
        Warehouse wh = warehouse(tmp);
        try (Lease held = Lease.acquire(wh, wh.runLock("r"), "train r")) {
            Lease.HeldException e = assertThrows(Lease.HeldException.class, () -> Lease.acquire(wh, wh.runLock("r"), "train r"));
            assertEquals(ProcessHandle.current().pid(), e.holder().pid());
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid() + " on " + Lease.hostName()
                    + " (train r, since "), e.getMessage());
        }
        assertFalse(Files.exists(tmp.resolve("_locks/run-r.lock")), "released");
        Lease.acquire(wh, wh.runLock("r"), "train r").close();
    }

    @Test
    void aLockOfAProcessThatDiedOnThisHostIsTakenOverAtOnce(@TempDir java.nio.file.Path tmp) throws Exception {
        Warehouse wh = warehouse(tmp);
        lease(tmp.resolve("_locks/run-r.lock"), deadPid(), Lease.hostName());
        try (Lease taken = Lease.acquire(wh, wh.runLock("r"), "train r")) {
            assertEquals(ProcessHandle.current().pid(), Warehouse.JSON.readTree(tmp.resolve("_locks/run-r.lock").toFile())
                    .get("pid").asLong());
        }
    }

    @Test
    void anotherHostsLockIsLiveUntilItsHeartbeatIsStale(@TempDir java.nio.file.Path tmp) throws Exception {
        Warehouse wh = warehouse(tmp);
        java.nio.file.Path file = tmp.resolve("_locks/run-r.lock");
        lease(file, 1, "some-other-host");
        assertThrows(Lease.HeldException.class, () -> Lease.acquire(wh, wh.runLock("r"), "train r"));
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 61_000));
        Lease.acquire(wh, wh.runLock("r"), "train r").close();
    }

    /**
     * Issue 27: a holder that was taken over (here: another host's lease written over its own, as a takeover after a
     * long SIGSTOP leaves it) finds out at its next heartbeat without being asked, runs its on-lost action, and from
     * then on {@link Lease#verify} throws the lost-lock line; closing it leaves the new holder's lease in place.
     */
    @Test
    void aHolderWhoseLeaseWasTakenOverStopsAndLeavesTheNewLeaseAlone(@TempDir java.nio.file.Path tmp) throws Exception {
        Warehouse wh = new Warehouse(tmp.toString(), new Configuration(), Duration.ofSeconds(3));
        assertEquals(Duration.ofSeconds(1), Lease.heartbeat(wh.staleAfter()));
        assertEquals(Duration.ofSeconds(20), Lease.heartbeat(Duration.ofMinutes(10)));
        java.nio.file.Path file = tmp.resolve("_locks/run-r.lock");
        java.util.concurrent.CountDownLatch cancelled = new java.util.concurrent.CountDownLatch(1);
        Lease held = Lease.acquire(wh, wh.runLock("r"), "train r");
        held.onLost(cancelled::countDown);
        Thread.sleep(2500);
        held.verify(); // its own heartbeats rewrote it: still held
        assertTrue(Files.readString(file).contains("heartbeat_at"), "the heartbeat rewrote the lease");

        // The new holder writes through Hadoop's file system, as imgtrain does (its checksum file with it).
        try (var out = wh.fs().create(wh.runLock("r"), true)) {
            out.write("{\"pid\": 4242, \"host\": \"the-new-holder\", \"what\": \"train r\"}".getBytes());
        }
        assertTrue(cancelled.await(10, TimeUnit.SECONDS), "the heartbeat saw the takeover and ran the on-lost action");
        Lease.LostException lost = assertThrows(Lease.LostException.class, held::verify);
        assertTrue(lost.getMessage().startsWith("lost the run lock to pid 4242 on the-new-holder: "), lost.getMessage());
        assertTrue(lost.getMessage().contains("storage.stale-after (3 s)"), lost.getMessage());
        held.close();
        assertTrue(Files.readString(file).contains("\"pid\": 4242"), "the new holder's lease was neither rewritten nor deleted");
    }

    @Test
    void verifyNoticesATakeoverBeforeAnyHeartbeat(@TempDir java.nio.file.Path tmp) throws Exception {
        Warehouse wh = warehouse(tmp);
        try (Lease held = Lease.acquire(wh, wh.runLock("r"), "train r")) {
            held.verify();
            Files.delete(tmp.resolve("_locks/run-r.lock"));
            Lease.LostException lost = assertThrows(Lease.LostException.class, held::verify);
            assertTrue(lost.getMessage().startsWith("lost the run lock to another process (the lock is gone): "),
                    lost.getMessage());
        }
    }

    @Test
    void deadScratchIsRemovedAndLiveScratchIsKept(@TempDir java.nio.file.Path tmp) throws Exception {
        Warehouse wh = warehouse(tmp);
        java.nio.file.Path t = tmp.resolve("_tmp");
        Files.createDirectories(t.resolve("batches-dead-1/part"));
        lease(t.resolve("batches-dead-1.owner"), deadPid(), Lease.hostName());
        Files.createDirectories(t.resolve("old-no-owner"));
        Files.setLastModifiedTime(t.resolve("old-no-owner"), java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 120_000));
        Files.createDirectories(t.resolve("new-no-owner"));
        try (Scratch.Dir live = Scratch.open(wh, "batches-live")) {
            Files.createDirectories(java.nio.file.Path.of(live.path().toUri()));
            Scratch.open(wh, "another").close(); // opening removes the dead ones
            assertFalse(Files.exists(t.resolve("batches-dead-1")));
            assertFalse(Files.exists(t.resolve("batches-dead-1.owner")));
            assertFalse(Files.exists(t.resolve("old-no-owner")));
            assertTrue(Files.exists(t.resolve("new-no-owner")), "not yet stale");
            assertTrue(Files.isDirectory(java.nio.file.Path.of(live.path().toUri())), "a live process's scratch stays");
            assertEquals(0, Scratch.removeDead(wh));
        }
        try (var left = Files.list(t)) {
            assertEquals(java.util.List.of("new-no-owner"), left.map(p -> p.getFileName().toString()).toList());
        }
    }
    /**
     * The race the CI run of {@code 80c52f4} hit in BadInputIT: a task creates its Parquet file, the driver (its job
     * failed on another task) removes the scratch, then the task's checksum file re-creates the directory; the task,
     * failing too, deletes its file, which leaves the orphan checksum. {@link Scratch#abandoned} at the end of every
     * task, failed or not, removes what it re-created; while the stage is live it leaves the directory alone.
     */
    @Test
    void aTaskThatWritesAfterItsStageRemovedTheScratchRemovesWhatItRecreated(@TempDir java.nio.file.Path tmp) throws Exception {
        Warehouse wh = warehouse(tmp);
        NioLocalFileSystem fs = new NioLocalFileSystem();
        fs.initialize(java.net.URI.create("file:///"), new Configuration());
        Scratch.Dir stage = Scratch.open(wh, "ingest-pics");
        Path file = new Path(stage.path(), "attempts/part-00000-29.snappy.parquet");
        try (var data = fs.getRawFileSystem().create(file)) {
            data.write(1);
            assertFalse(Scratch.abandoned(stage.path(), fs), "the stage is live");
            assertTrue(fs.exists(file));
            stage.close();
            fs.getRawFileSystem().create(new Path(file.getParent(), "." + file.getName() + ".crc")).close();
        }
        assertFalse(fs.delete(file, false), "the file went with the directory");
        assertTrue(Files.exists(tmp.resolve("_tmp")
                .resolve(stage.path().getName()).resolve("attempts/.part-00000-29.snappy.parquet.crc")), "orphan checksum");
        assertTrue(Scratch.abandoned(stage.path(), fs));
        try (var left = Files.list(tmp.resolve("_tmp"))) {
            assertEquals(java.util.List.of(), left.toList());
        }
    }
}
