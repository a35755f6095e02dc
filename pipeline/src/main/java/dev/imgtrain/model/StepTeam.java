package dev.imgtrain.model;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The helper threads of one training thread, for {@link FusedStep}'s lanes: {@link #run} gives lane 0 of a task to the
 * calling thread and lanes 1..n-1 to the helpers, and returns when all are done. A step hands work over a few times
 * (each a few microseconds), so the helpers spin on a volatile counter for a while after a task and only then park:
 * parking and waking a thread for every hand-over would cost tens of microseconds each.
 *
 * <p>One team per training thread (a thread-local), its helpers daemon threads that end when the training thread has
 * ended (checked whenever they wake from parking) or the team is replaced by a larger one.
 */
final class StepTeam {
    private static final ThreadLocal<StepTeam> PER_THREAD = new ThreadLocal<>();
    /** Tasks the helpers ran in this JVM (all teams): for tests. */
    static final java.util.concurrent.atomic.LongAdder HELPER_TASKS = new java.util.concurrent.atomic.LongAdder();
    /** How long an idle helper spins before it parks: longer than the serial part between two hand-overs of a step. */
    private static final long SPIN_NANOS = 200_000;
    private static final long PARK_NANOS = 1_000_000_000L;

    private final Thread owner;
    private final Thread[] helpers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile IntConsumer task;
    private volatile int active;
    private volatile Throwable failure;
    private volatile boolean closed;
    /** Written last by {@link #run}: a helper that sees it change sees the task, lane count and reset failure too. */
    private volatile long generation;

    private StepTeam(int helperCount) {
        owner = Thread.currentThread();
        helpers = new Thread[helperCount];
        for (int i = 0; i < helperCount; i++) {
            int lane = i + 1;
            helpers[i] = new Thread(() -> loop(lane), owner.getName() + "-fused-lane-" + lane);
            helpers[i].setDaemon(true);
            helpers[i].start();
        }
    }

    /** This thread's team with at least {@code helperCount} helpers. */
    static StepTeam forThread(int helperCount) {
        StepTeam team = PER_THREAD.get();
        if (team == null || team.helpers.length < helperCount) {
            if (team != null) {
                team.close();
            }
            team = new StepTeam(helperCount);
            PER_THREAD.set(team);
        }
        return team;
    }

    /** Runs {@code task} for lanes 0..lanes-1 (0 on this thread) and returns when every lane has returned. */
    void run(int lanes, IntConsumer task) {
        if (lanes <= 1) {
            task.accept(0);
            return;
        }
        if (Thread.currentThread() != owner || lanes - 1 > helpers.length) {
            throw new IllegalStateException("a step team runs its owner's tasks on at most " + (helpers.length + 1) + " lanes");
        }
        this.task = task;
        this.active = lanes;
        this.failure = null;
        pending.set(lanes - 1);
        generation++;
        for (int i = 0; i < lanes - 1; i++) {
            LockSupport.unpark(helpers[i]);
        }
        Throwable mine = null;
        try {
            task.accept(0);
        } catch (Throwable t) {
            mine = t;
        }
        while (pending.get() > 0) {
            Thread.onSpinWait();
        }
        this.task = null;
        Throwable theirs = failure;
        if (mine != null) {
            if (theirs != null) {
                mine.addSuppressed(theirs);
            }
            throw mine instanceof RuntimeException r ? r : new IllegalStateException(mine);
        }
        if (theirs != null) {
            throw new IllegalStateException("a lane of the fused step failed: " + theirs, theirs);
        }
    }

    private void close() {
        closed = true;
        for (Thread h : helpers) {
            LockSupport.unpark(h);
        }
    }

    private void loop(int lane) {
        // The generation at construction, not whatever it is when this thread gets going: the owner may have started
        // its first run by then, and that run waits for this lane.
        long seen = 0;
        while (true) {
            long g;
            long idleSince = System.nanoTime();
            while ((g = generation) == seen) {
                if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                LockSupport.parkNanos(this, PARK_NANOS);
                if (closed || !owner.isAlive()) {
                    return;
                }
            }
            seen = g;
            if (lane < active) {
                try {
                    HELPER_TASKS.increment();
                    task.accept(lane);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    pending.decrementAndGet();
                }
            }
        }
    }
}
