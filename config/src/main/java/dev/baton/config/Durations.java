package dev.baton.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one way baton reads a duration, in baton.toml, in a rollout file and on the command line, so
 * that what one place takes every other place takes too: a number and a unit, ms, s, m, h or d,
 * decimals allowed ("250ms", "1.5s", "1d"), several from the largest unit down ("2m30s", "1h 30m"),
 * or a bare number of seconds.
 */
public final class Durations {
  /**
   * The longest duration baton takes: ten years. A longer one would overflow toNanos() where a
   * timer is set, and nothing baton waits for takes that long.
   */
  public static final Duration LONGEST = Duration.ofDays(3650);

  /** The forms, for every error message. */
  private static final String FORMS =
      "write a number and a unit (ms, s, m, h or d), e.g. \"250ms\", \"1.5s\", \"2m30s\" or \"1d\";"
          + " a bare number is seconds";

  /** Largest first: the order the parts of a compound duration go in. */
  private static final List<String> UNITS = List.of("d", "h", "m", "s", "ms");

  private static final List<Duration> SIZES =
      List.of(
          Duration.ofDays(1),
          Duration.ofHours(1),
          Duration.ofMinutes(1),
          Duration.ofSeconds(1),
          Duration.ofMillis(1));

  private static final Pattern BARE = Pattern.compile("\\d+(\\.\\d+)?");
  private static final Pattern PART = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*([a-z]*)\\s*");

  private Durations() {}

  /**
   * Parses a duration of zero or more, up to {@link #LONGEST}; whether zero makes sense is the
   * caller's to say.
   *
   * @throws IllegalArgumentException quoting the text, saying what is wrong and what is accepted
   */
  public static Duration parse(String text) {
    var t = text.strip().toLowerCase(Locale.ROOT);
    if (t.isEmpty()) {
      throw wrong(text, "it is empty");
    }
    if (t.startsWith("-")) {
      throw wrong(text, "it is negative");
    }
    if (BARE.matcher(t).matches()) {
      return of(text, new BigDecimal(t), Duration.ofSeconds(1));
    }
    var total = Duration.ZERO;
    int previous = -1;
    var m = PART.matcher(t);
    int at = 0;
    while (at < t.length()) {
      if (!m.region(at, t.length()).lookingAt()) {
        throw wrong(text, "");
      }
      var unit = m.group(2);
      int index = UNITS.indexOf(unit);
      if (index < 0 && !unit.isEmpty()) {
        throw wrong(text, "'" + unit + "' is not a unit of time");
      }
      if (index < 0) {
        throw wrong(text, m.end() == t.length() ? "its last number has no unit" : "");
      }
      if (index <= previous) {
        throw wrong(text, "its units must go from the largest down, each once, as in \"1h30m\"");
      }
      previous = index;
      total = total.plus(of(text, new BigDecimal(m.group(1)), SIZES.get(index)));
      at = m.end();
    }
    if (total.compareTo(LONGEST) > 0) {
      throw tooLong(text);
    }
    return total;
  }

  /** {@code amount} units, exact to the nanosecond, at most LONGEST so that the sum cannot wrap. */
  private static Duration of(String text, BigDecimal amount, Duration unit) {
    var nanos = amount.multiply(BigDecimal.valueOf(unit.toNanos()));
    if (nanos.compareTo(BigDecimal.valueOf(LONGEST.toNanos())) > 0) {
      throw tooLong(text);
    }
    if (nanos.stripTrailingZeros().scale() > 0) {
      throw wrong(text, "it is finer than a nanosecond");
    }
    return Duration.ofNanos(nanos.longValueExact());
  }

  private static IllegalArgumentException wrong(String text, String why) {
    return new IllegalArgumentException(
        "'" + text + "' is not a duration" + (why.isEmpty() ? "" : ": " + why) + "; " + FORMS);
  }

  private static IllegalArgumentException tooLong(String text) {
    // Found by ConfigFuzzTest: "9223372036854775807h" overflowed into an ArithmeticException.
    return new IllegalArgumentException(
        "'"
            + text
            + "' is longer than any duration baton can wait (at most "
            + LONGEST.toDays()
            + "d); write e.g. \"10s\"");
  }
}
