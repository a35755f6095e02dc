package dev.imgtrain.config;

import com.typesafe.config.Config;

import java.util.Arrays;
import java.util.List;

/** Value checks shared by the config records; each failure names the key, the value and what is valid. */
public final class Checks {
    private Checks() {
    }

    public static int intIn(Config c, String key, int min, int max) {
        return intIn(c, key, min, max, ": expected an integer",
                ": expected an integer in [" + min + ", " + max + "]");
    }

    /** An integer in [min, max]; {@code what} says what else the key takes ("auto or an integer"). */
    public static int intIn(Config c, String key, int min, int max, String what) {
        String expected = ": expected " + what + " in [" + min + ", " + max + "]";
        return intIn(c, key, min, max, expected, expected);
    }

    /** An integer in [min, max]; the message for a value that is no integer, and for one out of range. */
    private static int intIn(Config c, String key, int min, int max, String notAnInteger, String outOfRange) {
        int value;
        try {
            value = c.getInt(key);
        } catch (com.typesafe.config.ConfigException.WrongType e) {
            throw new ConfigException(key + " = " + c.getValue(key).render() + notAnInteger, e);
        }
        if (value < min || value > max) {
            throw new ConfigException(key + " = " + value + outOfRange);
        }
        return value;
    }

    /** A duration ("30s", "10m") of at least {@code min}. */
    public static java.time.Duration duration(Config c, String key, java.time.Duration min) {
        java.time.Duration value;
        try {
            value = c.getDuration(key);
        } catch (com.typesafe.config.ConfigException.BadValue | com.typesafe.config.ConfigException.WrongType e) {
            throw new ConfigException(key + " = " + c.getValue(key).render() + ": expected a duration such as 30s or 10m", e);
        }
        if (value.compareTo(min) < 0) {
            throw new ConfigException(key + " = " + c.getValue(key).render() + ": expected at least " + min.toSeconds() + "s");
        }
        return value;
    }

    /** A positive finite number at {@code path} in {@code c}, reported under the full key {@code key}. */
    public static double positive(Config c, String path, String key) {
        double value = c.getDouble(path);
        if (!(value > 0.0) || Double.isInfinite(value)) {
            throw new ConfigException(key + " = " + value + ": expected a positive number");
        }
        return value;
    }

    /** A number in [min, max]. */
    public static double doubleIn(Config c, String key, double min, double max) {
        return doubleIn(c, key, min, max, "a number");
    }

    /** A number in [min, max]; {@code what} says what else the key takes ("auto or a number"). */
    public static double doubleIn(Config c, String key, double min, double max, String what) {
        String expected = ": expected " + what + " in [" + bound(min) + ", " + bound(max) + "]";
        double value;
        try {
            value = c.getDouble(key);
        } catch (com.typesafe.config.ConfigException.WrongType e) {
            throw new ConfigException(key + " = " + c.getValue(key).render() + expected, e);
        }
        if (!(value >= min && value <= max)) {
            throw new ConfigException(key + " = " + value + expected);
        }
        return value;
    }

    /** A number in [0, 1] (an accuracy or a fraction). */
    public static double fraction(Config c, String key) {
        return doubleIn(c, key, 0, 1);
    }

    /** 0 and 1 as written in a message, 0.99 as itself. */
    private static String bound(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    public static String nonBlank(Config c, String key) {
        String value = c.getString(key).trim();
        if (value.isEmpty()) {
            throw new ConfigException(key + " is empty: expected a value");
        }
        return value;
    }

    public static String oneOf(Config c, String key, String... allowed) {
        String value = c.getString(key).trim();
        List<String> valid = Arrays.asList(allowed);
        if (!valid.contains(value)) {
            throw new ConfigException(key + " = '" + value + "': expected one of " + valid);
        }
        return value;
    }

    /** A dataset name: a directory name of lower-case letters, digits, '-' and '_'. */
    public static String name(Config c, String key) {
        String value = c.getString(key).trim();
        if (!value.matches("[a-z0-9][a-z0-9_-]{0,63}")) {
            throw new ConfigException(key + " = '" + value
                    + "': a dataset name is 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit");
        }
        return value;
    }

    /** A run id is a directory name: letters, digits, '.', '_' and '-'. */
    public static String runIdOrEmpty(Config c, String key) {
        String value = c.getString(key).trim();
        if (!value.isEmpty() && !value.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new ConfigException(key + " = '" + value
                    + "': a run id is 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        return value;
    }
}
