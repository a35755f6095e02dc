package dev.imgtrain.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Progress of one long piece of work (an epoch, an export), shown as Keras shows it: a line redrawn in place on a
 * terminal ({@code bar}: at least every {@link #REDRAW_MS} ms and on every step), or, where the output is a log
 * ({@code log}: files, CI, YARN), one INFO line at most every {@link #LOG_EVERY_MS} ms and none for work shorter than
 * that. The caller feeds it ({@link #start}, {@link #advance}, {@link #finish}); it knows nothing of Spark.
 *
 * <pre>epoch 3/10 [=========>..........] 5/16 rounds  41,230 examples/s  ETA 3 s  loss 0.1234</pre>
 */
public final class Progress implements AutoCloseable {
    /** How progress is shown ({@code progress} in the configuration; {@code auto}: bar on a terminal, else log). */
    public enum Mode { BAR, LOG, NONE }

    static final long REDRAW_MS = 1000;
    static final long LOG_EVERY_MS = 30_000;
    private static final int WIDTH = 24;

    private final Mode mode;
    private final PrintStream terminal;
    private final Consumer<String> log;
    private final LongSupplier clockMillis;
    private final ScheduledExecutorService timer;
    private ScheduledFuture<?> ticking;

    private String title = "";
    private String unit = "";
    private long total;
    private long done;
    private long examples;
    private Double loss;
    private long startedMillis;
    private long lastLogMillis;
    /** Milliseconds the previous piece of the same kind took: the ETA before its first step is done. */
    private long previousMillis = -1;
    private boolean drawn;
    /** How the current piece is shown: {@link #mode}, but a bar while another piece draws one is logged. */
    private Mode showing = Mode.NONE;

    /**
     * @param terminal where the bar is drawn (stderr)
     * @param log      where log lines go (an INFO logger)
     * @param clockMillis the clock (a fake one in tests); {@code timer} null: no redraw between steps (tests)
     */
    Progress(Mode mode, PrintStream terminal, Consumer<String> log, LongSupplier clockMillis, ScheduledExecutorService timer) {
        this.mode = mode;
        this.terminal = terminal;
        this.log = log;
        this.clockMillis = clockMillis;
        this.timer = timer;
    }

    /** Whether a bar is being drawn now: a second piece at the same time (parallel sweep trials) logs instead. */
    private static final java.util.concurrent.atomic.AtomicBoolean BAR_SHOWN = new java.util.concurrent.atomic.AtomicBoolean();

    /** Progress on stderr and {@code log}, redrawn by a daemon timer. */
    public static Progress of(Mode mode, org.slf4j.Logger log) {
        ScheduledExecutorService timer = mode == Mode.NONE ? null : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "imgtrain-progress");
            t.setDaemon(true);
            return t;
        });
        return new Progress(mode, System.err, log::info, System::currentTimeMillis, timer);
    }

    /**
     * The mode a configured value names: {@code bar}, {@code log}, {@code none}, or {@code auto} (a bar when stderr
     * is a terminal: bin/imgtrain says so with {@code -Dimgtrain.stderr.tty=true}, else Java's console is asked).
     */
    public static Mode mode(String configured) {
        return switch (configured) {
            case "bar" -> Mode.BAR;
            case "log" -> Mode.LOG;
            case "none" -> Mode.NONE;
            default -> stderrIsTerminal() ? Mode.BAR : Mode.LOG;
        };
    }

    private static boolean stderrIsTerminal() {
        String told = System.getProperty("imgtrain.stderr.tty");
        if (told != null) {
            return Boolean.parseBoolean(told);
        }
        return System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }

    /** Starts a piece of work of {@code total} steps called {@code unit} (e.g. "epoch 3/10", 16, "rounds"). */
    public synchronized void start(String title, long total, String unit) {
        this.title = title;
        this.total = total;
        this.unit = unit;
        this.done = 0;
        this.examples = 0;
        this.loss = null;
        this.startedMillis = clockMillis.getAsLong();
        this.lastLogMillis = startedMillis;
        if (showing == Mode.BAR) {
            BAR_SHOWN.set(false);
        }
        showing = mode == Mode.BAR && !BAR_SHOWN.compareAndSet(false, true) ? Mode.LOG : mode;
        if (showing == Mode.BAR) {
            draw();
        }
        if (timer != null && ticking == null) {
            ticking = timer.scheduleAtFixedRate(this::tick, REDRAW_MS, REDRAW_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** {@code steps} more steps done, {@code moreExamples} more examples; {@code runningLoss} the mean so far, or null. */
    public synchronized void advance(long steps, long moreExamples, Double runningLoss) {
        done = Math.min(total, done + steps);
        examples += moreExamples;
        if (runningLoss != null && Double.isFinite(runningLoss)) {
            loss = runningLoss;
        }
        tick();
    }

    /** Redraws the bar, or logs a line when the piece has run for {@link #LOG_EVERY_MS} since the last one. */
    synchronized void tick() {
        long now = clockMillis.getAsLong();
        if (showing == Mode.BAR) {
            draw();
        } else if (showing == Mode.LOG && now - lastLogMillis >= LOG_EVERY_MS) {
            lastLogMillis = now;
            log.accept(line(now));
        }
    }

    /** The piece is done: the bar's line is cleared (the caller logs its own summary). */
    public synchronized void finish() {
        previousMillis = clockMillis.getAsLong() - startedMillis;
        if (showing == Mode.BAR) {
            if (drawn) {
                terminal.print("\r\033[K");
                terminal.flush();
                drawn = false;
            }
            BAR_SHOWN.set(false);
        }
        showing = Mode.NONE;
        title = "";
        total = 0;
        done = 0;
    }

    private void draw() {
        terminal.print("\r" + line(clockMillis.getAsLong()) + "\033[K");
        terminal.flush();
        drawn = true;
    }

    /** The progress line at {@code now}. */
    synchronized String line(long now) {
        double seconds = Math.max(1, now - startedMillis) / 1000.0;
        StringBuilder s = new StringBuilder(title);
        int filled = total == 0 ? 0 : (int) (WIDTH * done / total);
        s.append(" [").append("=".repeat(filled));
        if (filled < WIDTH) {
            s.append('>').append(".".repeat(WIDTH - filled - 1));
        }
        s.append("] ").append(done).append('/').append(total).append(' ').append(unit);
        if (examples > 0) {
            s.append(String.format(Locale.ROOT, "  %,.0f examples/s", examples / seconds));
        }
        long eta = eta(now);
        if (eta >= 0) {
            s.append("  ETA ").append(duration(eta));
        } else {
            s.append("  ").append(duration(now - startedMillis)).append(" elapsed");
        }
        if (loss != null) {
            s.append(String.format(Locale.ROOT, "  loss %.4f", loss));
        }
        return s.toString();
    }

    /** Milliseconds left: from the steps done so far, or from the previous piece before the first step; -1 unknown. */
    private long eta(long now) {
        long elapsed = now - startedMillis;
        if (done > 0 && total > 0) {
            return Math.max(0, elapsed * (total - done) / done);
        }
        return previousMillis > 0 ? Math.max(0, previousMillis - elapsed) : -1;
    }

    static String duration(long millis) {
        long s = Math.round(millis / 1000.0);
        return s < 60 ? s + " s" : s < 3600 ? String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    @Override
    public synchronized void close() {
        finish();
        if (ticking != null) {
            ticking.cancel(false);
        }
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
