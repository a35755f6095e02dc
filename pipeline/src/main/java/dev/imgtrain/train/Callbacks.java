package dev.imgtrain.train;

import java.util.List;
import java.util.Locale;

/**
 * Keras' {@code EarlyStopping} and {@code ReduceLROnPlateau} ({@code train.early-stopping},
 * {@code train.reduce-lr-on-plateau}), decided on the driver after each epoch's validation. A new learning rate reaches
 * the workers with the next averaging round (each round broadcasts the network's configuration).
 *
 * <p>The rules are Keras 3's: early stopping counts the epochs since {@code monitor} last improved by more than
 * {@code min-delta} and stops when that count reaches {@code patience} (never after the first epoch); with
 * {@code restore-best-weights} the committed model is the best epoch's, whether or not training stopped early. The
 * plateau rule multiplies the learning rate by {@code factor} (not below {@code min-lr}) when {@code monitor} has not
 * improved by more than {@code min-delta} for {@code patience} epochs, then waits {@code cooldown} epochs.
 * {@code val_loss} is minimised, {@code val_accuracy} maximised.
 *
 * <p>The state (best values, counters, learning rate) is a function of the epochs' metrics, so a resumed run rebuilds it
 * by {@link #replay replaying} metrics.jsonl: nothing else is saved, and the resumed run decides as the uninterrupted
 * one would have.
 */
public final class Callbacks {
    static final List<String> MONITORS = List.of("val_loss", "val_accuracy");

    /** {@code train.early-stopping}. */
    public record EarlyStopping(boolean enabled, String monitor, int patience, double minDelta,
                                boolean restoreBestWeights) {
    }

    /** {@code train.reduce-lr-on-plateau}. */
    public record ReduceLrOnPlateau(boolean enabled, String monitor, double factor, int patience, double minDelta,
                                    int cooldown, double minLr) {
    }

    /**
     * {@code model.lr-decay} (a preset setting, like the learning rate it changes): a step schedule (Keras' {@code LearningRateScheduler} with a step function, or
     * {@code ExponentialDecay} per epoch with {@code every = 1}): after epoch {@code after} and every {@code every}
     * epochs from there, {@code lr = max(lr * factor, min-lr)}.
     */
    public record LrDecay(boolean enabled, double factor, int every, int after, double minLr) {
        /** Off: the learning rate changes only by the other rules. */
        public static final LrDecay OFF = new LrDecay(false, 0.5, 1, 1, 0);
    }

    /**
     * What the driver does after an epoch: train the next one with {@code nextLr} ({@code lrChange} says why it
     * changed, null when it did not), or stop ({@code stop} says why; null: go on).
     */
    public record Decision(double nextLr, String lrChange, String stop) {
    }

    private final EarlyStopping early;
    private final ReduceLrOnPlateau plateau;
    private final LrDecay decay;
    private double lr;
    private double best;
    private int bestEpoch;
    private int wait;
    private double plateauBest;
    private int plateauWait;
    private int cooldownLeft;

    public Callbacks(EarlyStopping early, ReduceLrOnPlateau plateau, LrDecay decay, double initialLr) {
        this.early = early;
        this.plateau = plateau;
        this.decay = decay;
        this.lr = initialLr;
        this.best = worst(early.monitor());
        this.plateauBest = worst(plateau.monitor());
    }

    /** The callbacks' state after the epochs of {@code metrics} (a resumed run's), and the last epoch's decision. */
    static Replayed replay(EarlyStopping early, ReduceLrOnPlateau plateau, LrDecay decay, double initialLr,
                           List<EpochMetrics> metrics) {
        Callbacks callbacks = new Callbacks(early, plateau, decay, initialLr);
        Decision last = null;
        for (EpochMetrics m : metrics) {
            last = callbacks.afterEpoch(m);
        }
        return new Replayed(callbacks, last);
    }

    record Replayed(Callbacks callbacks, Decision last) {
    }

    /** The learning rate the next epoch trains with. */
    public double learningRate() {
        return lr;
    }

    /** The best epoch so far by {@code early-stopping.monitor} (0 before the first). */
    public int bestEpoch() {
        return bestEpoch;
    }

    /**
     * The epoch whose weights the model committed after {@code lastEpoch} gets when restore-best-weights chose another
     * one; null when it keeps the last epoch's.
     */
    public Integer restoredEpoch(int lastEpoch) {
        return restoreBestWeights() && bestEpoch > 0 && bestEpoch != lastEpoch ? bestEpoch : null;
    }

    public boolean restoreBestWeights() {
        return early.enabled() && early.restoreBestWeights();
    }

    public boolean active() {
        return early.enabled() || plateau.enabled() || decay.enabled();
    }

    /** Decides after {@code m}, the epoch just trained with {@link #learningRate()}. */
    public Decision afterEpoch(EpochMetrics m) {
        double current = value(m, early.monitor());
        String stop = null;
        if (improved(current, best, early.monitor(), early.minDelta())) {
            best = current;
            bestEpoch = m.epoch();
            wait = 0;
        } else {
            wait++;
            if (early.enabled() && wait >= early.patience() && m.epoch() > 1) {
                stop = String.format(Locale.ROOT, "early stopping: %s did not improve by more than %s for %d epoch%s "
                                + "(best %.4f at epoch %d)", early.monitor(), number(early.minDelta()), wait,
                        wait == 1 ? "" : "s", best, bestEpoch);
            }
        }
        String change = null;
        if (plateau.enabled()) {
            double watched = value(m, plateau.monitor());
            boolean cooling = cooldownLeft > 0;
            if (cooling) {
                cooldownLeft--;
                plateauWait = 0;
            }
            if (improved(watched, plateauBest, plateau.monitor(), plateau.minDelta())) {
                plateauBest = watched;
                plateauWait = 0;
            } else if (!cooling) {
                plateauWait++;
                if (plateauWait >= plateau.patience() && lr > plateau.minLr()) {
                    double next = Math.max(lr * plateau.factor(), plateau.minLr());
                    change = String.format(Locale.ROOT, "reduce-lr-on-plateau: %s did not improve by more than %s for "
                                    + "%d epoch%s; learning rate %s -> %s", plateau.monitor(), number(plateau.minDelta()),
                            plateauWait, plateauWait == 1 ? "" : "s", number(lr), number(next));
                    lr = next;
                    cooldownLeft = plateau.cooldown();
                    plateauWait = 0;
                }
            }
        }
        if (decay.enabled() && m.epoch() >= decay.after() && (m.epoch() - decay.after()) % decay.every() == 0
                && lr > decay.minLr()) {
            double next = Math.max(lr * decay.factor(), decay.minLr());
            String step = String.format(Locale.ROOT, "lr-decay: after epoch %d; learning rate %s -> %s", m.epoch(),
                    number(lr), number(next));
            change = change == null ? step : change + "; " + step;
            lr = next;
        }
        return new Decision(lr, change, stop);
    }

    static double value(EpochMetrics m, String monitor) {
        return monitor.equals("val_accuracy") ? m.valAccuracy() : m.valLoss();
    }

    private static boolean improved(double current, double reference, String monitor, double minDelta) {
        return monitor.equals("val_accuracy") ? current - minDelta > reference : current + minDelta < reference;
    }

    private static double worst(String monitor) {
        return monitor.equals("val_accuracy") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }

    /** A learning rate or delta as people write it: 0.001, 1.0E-4 as 0.0001. */
    static String number(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
    }
}
