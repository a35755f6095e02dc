package dev.imgtrain.train;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The progress line on a fake clock: a bar that advances within an epoch, log lines only for long work. */
class ProgressTest {
    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final ByteArrayOutputStream terminal = new ByteArrayOutputStream();
    private final List<String> log = new ArrayList<>();

    private Progress progress(Progress.Mode mode) {
        return new Progress(mode, new PrintStream(terminal, true, StandardCharsets.UTF_8), log::add, clock::get, null);
    }

    private String drawn() {
        return terminal.toString(StandardCharsets.UTF_8);
    }

    @Test
    void barAdvancesWithinAnEpochAndIsClearedAtItsEnd() {
        Progress p = progress(Progress.Mode.BAR);
        p.start("epoch 1/3", 4, "rounds");
        assertTrue(drawn().endsWith("\repoch 1/3 [>.......................] 0/4 rounds  0 s elapsed\033[K"), drawn());
        clock.addAndGet(2_000);
        p.advance(1, 15_000, 0.5);
        assertTrue(drawn().endsWith("\repoch 1/3 [======>.................] 1/4 rounds  7,500 examples/s  ETA 6 s  loss 0.5000\033[K"),
                drawn());
        clock.addAndGet(1_000);
        p.tick(); // the timer's redraw between rounds: the same counts, a later time
        assertTrue(drawn().endsWith("1/4 rounds  5,000 examples/s  ETA 9 s  loss 0.5000\033[K"), drawn());
        clock.addAndGet(1_000);
        p.advance(3, 45_000, 0.25);
        assertTrue(drawn().endsWith("[========================] 4/4 rounds  15,000 examples/s  ETA 0 s  loss 0.2500\033[K"),
                drawn());
        p.finish();
        assertTrue(drawn().endsWith("\r\033[K"), "the line is cleared for the epoch's own log line");
        assertEquals(List.of(), log, "a bar logs nothing");
        // The next epoch's ETA before its first round comes from the previous epoch's time (4 s).
        clock.addAndGet(1_000);
        p.start("epoch 2/3", 4, "rounds");
        assertTrue(drawn().endsWith("epoch 2/3 [>.......................] 0/4 rounds  ETA 4 s\033[K"), drawn());
    }

    @Test
    void aSecondBarAtTheSameTimeLogsInstead() {
        Progress first = progress(Progress.Mode.BAR);
        Progress second = progress(Progress.Mode.BAR);
        first.start("trial a: epoch 1/1", 2, "rounds");
        second.start("trial b: epoch 1/1", 2, "rounds");
        clock.addAndGet(31_000);
        second.advance(1, 100, null);
        assertEquals(1, log.size(), "the second bar logs: " + drawn());
        assertTrue(log.get(0).startsWith("trial b"), log.get(0));
        assertFalse(drawn().contains("trial b"), "only one bar is drawn");
        first.finish();
        second.finish();
        Progress third = progress(Progress.Mode.BAR);
        third.start("trial c: epoch 1/1", 2, "rounds");
        assertTrue(drawn().contains("trial c"), "once the first bar is done, the next one draws");
        third.finish();
    }

    @Test
    void logModeSaysNothingForWorkUnderThirtySeconds() {
        Progress p = progress(Progress.Mode.LOG);
        p.start("epoch 1/2", 10, "rounds");
        for (int i = 0; i < 10; i++) {
            clock.addAndGet(2_900);
            p.advance(1, 6000, 0.3);
        }
        p.finish();
        assertEquals(List.of(), log);
        assertEquals("", drawn(), "nothing on the terminal in log mode");
    }

    @Test
    void logModeLogsAtMostEveryThirtySeconds() {
        Progress p = progress(Progress.Mode.LOG);
        p.start("epoch 1/1", 100, "rounds");
        for (int i = 0; i < 100; i++) {
            clock.addAndGet(1_000);
            p.advance(1, 600, 0.1);
            p.tick();
        }
        p.finish();
        assertEquals(3, log.size(), log.toString()); // at 30, 60 and 90 s
        assertTrue(log.get(0).startsWith("epoch 1/1 [=======>................] 30/100 rounds  600 examples/s  ETA 1:10"),
                log.get(0));
        assertFalse(log.get(0).contains("\033"), "no terminal codes in a log line");
    }

    @Test
    void noneShowsNothing() {
        Progress p = progress(Progress.Mode.NONE);
        p.start("epoch 1/1", 2, "rounds");
        clock.addAndGet(100_000);
        p.advance(1, 10, 1.0);
        p.tick();
        p.finish();
        assertEquals("", drawn());
        assertEquals(List.of(), log);
    }

    @Test
    void modeFromConfiguration() {
        assertEquals(Progress.Mode.BAR, Progress.mode("bar"));
        assertEquals(Progress.Mode.LOG, Progress.mode("log"));
        assertEquals(Progress.Mode.NONE, Progress.mode("none"));
        String before = System.getProperty("imgtrain.stderr.tty");
        try {
            System.setProperty("imgtrain.stderr.tty", "false");
            assertEquals(Progress.Mode.LOG, Progress.mode("auto"));
            System.setProperty("imgtrain.stderr.tty", "true");
            assertEquals(Progress.Mode.BAR, Progress.mode("auto"));
        } finally {
            if (before == null) {
                System.clearProperty("imgtrain.stderr.tty");
            } else {
                System.setProperty("imgtrain.stderr.tty", before);
            }
        }
    }

    @Test
    void durations() {
        assertEquals("59 s", Progress.duration(59_000));
        assertEquals("1:05", Progress.duration(65_000));
        assertEquals("1:00:01", Progress.duration(3_601_000));
    }
}
