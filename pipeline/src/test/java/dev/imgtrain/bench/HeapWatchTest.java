package dev.imgtrain.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

class HeapWatchTest {
    @Test
    void theLiveSetIsSampledAndCanBeTakenFromAPointInTimeOn() throws Exception {
        try (HeapWatch heap = new HeapWatch(50)) {
            byte[][] held = new byte[3][];
            for (int i = 0; i < held.length; i++) {
                held[i] = new byte[100 << 20]; // 300 MiB live while the first samples are taken
            }
            Thread.sleep(400);
            assertTrue(held[2].length > 0);
            held = null;
            long released = System.nanoTime();
            Thread.sleep(400);
            assertTrue(heap.liveMib() >= 300, "the 300 MiB held were live at a sample: " + heap.liveMib());
            assertTrue(heap.liveMibSince(released) < 250, "gone once released: " + heap.liveMibSince(released));
            assertTrue(heap.liveMibSince(released) > 0, "samples after the release");
        }
    }
}
