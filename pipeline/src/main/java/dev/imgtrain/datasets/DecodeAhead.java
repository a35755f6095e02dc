package dev.imgtrain.datasets;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link SplitDecoder} that runs another one on its own thread, a bounded queue ahead of the caller: in an ingest
 * task, decompressing and checking the archive overlaps with Spark encoding and writing the Parquet rows, instead of
 * the two taking turns on one core. The examples, their order, the checks and their exceptions are the wrapped
 * decoder's; an exception it throws is rethrown by {@link #next()} as it was.
 *
 * <p>Not thread-safe: one consumer. {@link #close()} stops the decoding thread (also mid-way, when the task failed
 * or was killed) and closes the wrapped decoder.
 */
public final class DecodeAhead implements SplitDecoder {
    /** Examples handed over per queue entry: few enough hand-overs to cost nothing, small enough to start writing early. */
    static final int CHUNK = 256;
    /** Chunks the decoding thread may run ahead (a CIFAR-10 chunk is about 0.8 MB). */
    static final int CHUNKS_AHEAD = 4;

    private static final Object END = new Object();

    private final SplitDecoder decoder;
    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(CHUNKS_AHEAD);
    private final Thread thread;
    private Iterator<Example> chunk = List.<Example>of().iterator();
    private boolean ended;
    private volatile boolean closed;

    private DecodeAhead(SplitDecoder decoder, String name) {
        this.decoder = decoder;
        this.thread = new Thread(this::decodeAll, "imgtrain-decode-" + name);
        this.thread.setDaemon(true);
    }

    /** Starts decoding {@code decoder} on a daemon thread named after {@code name}. */
    public static DecodeAhead start(SplitDecoder decoder, String name) {
        DecodeAhead ahead = new DecodeAhead(decoder, name);
        ahead.thread.start();
        return ahead;
    }

    private void decodeAll() {
        List<Example> buffer = new ArrayList<>(CHUNK);
        try {
            Example e;
            while ((e = decoder.next()) != null) {
                buffer.add(e);
                if (buffer.size() == CHUNK) {
                    hand(buffer);
                    buffer = new ArrayList<>(CHUNK);
                }
            }
            if (!buffer.isEmpty()) {
                hand(buffer);
            }
            hand(END);
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            try {
                // The examples decoded before the failure first, as the wrapped decoder would have returned them.
                if (!buffer.isEmpty()) {
                    hand(buffer);
                }
                hand(new Failure(t));
            } catch (InterruptedException stopped) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void hand(Object item) throws InterruptedException {
        while (!closed) {
            if (queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                return;
            }
        }
        throw new InterruptedException("closed");
    }

    @Override
    public Example next() {
        while (!chunk.hasNext()) {
            if (ended) {
                return null;
            }
            Object item;
            try {
                item = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while decoding", e);
            }
            if (item == END) {
                ended = true;
                return null;
            }
            if (item instanceof Failure f) {
                ended = true;
                throw f.rethrown();
            }
            @SuppressWarnings("unchecked")
            List<Example> examples = (List<Example>) item;
            chunk = examples.iterator();
        }
        return chunk.next();
    }

    @Override
    public List<DatasetManifest.SourceFile> sources() {
        return decoder.sources();
    }

    @Override
    public List<String> classNames() {
        return decoder.classNames();
    }

    @Override
    public void close() throws java.io.UncheckedIOException {
        if (closed) {
            return;
        }
        closed = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            decoder.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** What the decoding thread threw, carried to the consumer. */
    private record Failure(Throwable error) {
        RuntimeException rethrown() {
            if (error instanceof RuntimeException r) {
                return r;
            }
            if (error instanceof Error err) {
                throw err;
            }
            return new IllegalStateException(error.getMessage(), error);
        }
    }
}
