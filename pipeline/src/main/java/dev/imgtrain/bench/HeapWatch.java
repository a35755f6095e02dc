package dev.imgtrain.bench;

import com.sun.management.GarbageCollectionNotificationInfo;

import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap a JVM held while it watched. {@link #peakMib}: the largest heap in use just after any garbage collection,
 * from the collectors' notifications, an upper bound of what was live (a young collection leaves old-generation
 * garbage in place). With a sampling period, a daemon thread also forces a full collection ({@code System.gc()}) that
 * often and reads the heap in use right after it: {@link #liveMib} is the largest of those samples, the live set
 * itself (at the sampled moments), and {@link #liveMibSince} the same from a point in time on (e.g. a training run's
 * first epoch, after the export of its mini-batches). The forced collections cost time: sample in an untimed run.
 */
public final class HeapWatch implements AutoCloseable {
    private final AtomicLong peakAfterGc = new AtomicLong();
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener = (notification, handback) -> {
        if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
            GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
            long used = 0;
            for (MemoryUsage u : info.getGcInfo().getMemoryUsageAfterGc().values()) {
                used += u.getUsed();
            }
            peakAfterGc.accumulateAndGet(used, Math::max);
        }
    };

    /** (System.nanoTime() before the collection, heap in use after it) of every sample. */
    private final List<long[]> samples = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Thread sampler;

    /** Watches the collectors' notifications only. */
    public HeapWatch() {
        this(0);
    }

    /** Also samples the live heap every {@code sampleMillis} (0: never). */
    public HeapWatch(long sampleMillis) {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, null, null);
                emitters.add(emitter);
            }
        }
        sampler = sampleMillis <= 0 ? null : new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(sampleMillis);
                    sample();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "heap-watch");
        if (sampler != null) {
            sampler.setDaemon(true);
            sampler.start();
        }
    }

    /** Forces a full collection now and records the heap in use after it, as the sampler does. */
    public void sample() {
        long at = System.nanoTime();
        System.gc();
        samples.add(new long[]{at, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()});
    }

    /** The largest heap in use right after a forced full collection, in MiB (0 without sampling). */
    public double liveMib() {
        return liveMib(at -> true);
    }

    /** The same over the samples taken from {@code System.nanoTime() == since} on (0 when there are none). */
    public double liveMibSince(long since) {
        return liveMib(at -> at - since >= 0);
    }

    private double liveMib(java.util.function.LongPredicate takenAt) {
        synchronized (samples) {
            return samples.stream().filter(s -> takenAt.test(s[0])).mapToLong(s -> s[1]).max().orElse(0) / (1024.0 * 1024.0);
        }
    }

    /** The largest live heap seen after a collection, in MiB (0 when no collection ran). */
    public double peakMib() {
        return peakAfterGc.get() / (1024.0 * 1024.0);
    }

    /** Stops watching; with sampling, takes one last sample first (so a run shorter than the period has one). */
    @Override
    public void close() {
        if (sampler != null) {
            sampler.interrupt();
            try {
                sampler.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sample();
        }
        for (NotificationEmitter e : emitters) {
            try {
                e.removeNotificationListener(listener);
            } catch (javax.management.ListenerNotFoundException ignored) {
                // already gone
            }
        }
    }
}
