package dev.imgtrain.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The raw measurements of one bench run, by name, in the order they were taken; medians and ratios of medians. */
public final class Figures {
    private final Map<String, List<Double>> raw = new LinkedHashMap<>();

    public void add(String key, double value) {
        raw.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }

    public boolean has(String key) {
        return raw.containsKey(key);
    }

    /** The median of {@code key}'s values (NaN when it has none). */
    public double median(String key) {
        List<Double> xs = raw.get(key);
        return xs == null ? Double.NaN : median(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** The ratio of two figures' medians; null when either was not measured or a run never reached the target. */
    public Double ratio(String numerator, String denominator) {
        if (!has(numerator) || !has(denominator)) {
            return null;
        }
        double a = median(numerator);
        double b = median(denominator);
        return Double.isNaN(a) || Double.isNaN(b) ? null : a / b;
    }

    public Map<String, List<Double>> raw() {
        return raw;
    }

    public Map<String, Object> medians() {
        Map<String, Object> medians = new LinkedHashMap<>();
        raw.keySet().forEach(k -> medians.put(k, median(k)));
        return medians;
    }

    public static double median(double[] xs) {
        if (xs.length == 0) {
            return Double.NaN;
        }
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
