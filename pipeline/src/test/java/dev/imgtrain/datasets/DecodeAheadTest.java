package dev.imgtrain.datasets;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecodeAheadTest {
    /** Yields examples 0..n-1 (label = index % 10), or throws {@code failure} instead of example {@code failAt}. */
    private static final class Counting implements SplitDecoder {
        final int n;
        final int failAt;
        final RuntimeException failure;
        final AtomicInteger produced = new AtomicInteger();
        final AtomicBoolean closed = new AtomicBoolean();

        Counting(int n, int failAt, RuntimeException failure) {
            this.n = n;
            this.failAt = failAt;
            this.failure = failure;
        }

        @Override
        public Example next() {
            int i = produced.get();
            if (i == failAt) {
                throw failure;
            }
            if (i == n) {
                return null;
            }
            produced.incrementAndGet();
            return new Example(i, i % 10, new byte[]{(byte) i});
        }

        @Override
        public List<DatasetManifest.SourceFile> sources() {
            return List.of(new DatasetManifest.SourceFile("f", produced.get(), "sha"));
        }

        @Override
        public List<String> classNames() {
            return List.of("a", "b");
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    @Test
    void yieldsEveryExampleInOrderAcrossChunksThenTheSources() throws Exception {
        int n = DecodeAhead.CHUNK * 3 + 17;
        Counting inner = new Counting(n, -1, null);
        try (DecodeAhead ahead = DecodeAhead.start(inner, "t")) {
            for (int i = 0; i < n; i++) {
                Example e = ahead.next();
                assertEquals(i, e.index());
                assertEquals(i % 10, e.label());
            }
            assertNull(ahead.next());
            assertNull(ahead.next());
            assertEquals(n, ahead.sources().get(0).bytes());
            assertEquals(List.of("a", "b"), ahead.classNames());
        }
        assertTrue(inner.closed.get());
    }

    @Test
    void rethrowsTheDecodersOwnExceptionAfterTheExamplesBeforeIt() throws Exception {
        InvalidArchiveException bad = new InvalidArchiveException("x.tar.gz", "label 10 at record 300");
        try (DecodeAhead ahead = DecodeAhead.start(new Counting(1000, 300, bad), "t")) {
            for (int i = 0; i < 300; i++) {
                assertEquals(i, ahead.next().index());
            }
            assertSame(bad, assertThrows(InvalidArchiveException.class, ahead::next));
        }
    }

    @Test
    void closeMidWayStopsTheDecodingThreadAndClosesTheDecoder() throws Exception {
        Counting inner = new Counting(Integer.MAX_VALUE - 1, -1, null);
        DecodeAhead ahead = DecodeAhead.start(inner, "stop-me");
        ahead.next();
        ahead.close();
        int after = inner.produced.get();
        Thread.sleep(200);
        assertEquals(after, inner.produced.get(), "the decoding thread kept going after close()");
        assertTrue(inner.closed.get());
        assertFalse(Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("imgtrain-decode-stop-me")));
        // Bounded: the thread ran at most a few chunks ahead of the one example taken.
        assertTrue(after <= DecodeAhead.CHUNK * (DecodeAhead.CHUNKS_AHEAD + 2), "ran " + after + " ahead");
    }
}
