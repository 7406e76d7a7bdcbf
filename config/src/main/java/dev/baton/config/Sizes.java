package dev.baton.config;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one way baton reads a size in bytes: a whole number and a unit, KB, MB or GB, each a power of
 * 1024 whether written KB or KiB, the B optional ("100MB", "512KiB", "1g"), or a bare number of
 * bytes.
 */
public final class Sizes {
  private static final String FORMS =
      "write a whole number and a unit (KB, MB or GB, powers of 1024; KiB, MiB, GiB alike),"
          + " e.g. \"100MB\", \"512KB\" or \"1GB\"; a bare number is bytes";

  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(?:([kmg])i?b?|b)?");

  private Sizes() {}

  /**
   * Parses a size of zero bytes or more; whether a small one makes sense is the caller's to say.
   *
   * @throws IllegalArgumentException quoting the text, saying what is wrong and what is accepted
   */
  public static long parse(String text) {
    var t = text.strip().toLowerCase(Locale.ROOT);
    if (t.isEmpty()) {
      throw wrong(text, "it is empty");
    }
    if (t.startsWith("-")) {
      throw wrong(text, "it is negative");
    }
    var m = SIZE.matcher(t);
    if (!m.matches()) {
      throw wrong(text, "");
    }
    int shift =
        m.group(2) == null
            ? 0
            : switch (m.group(2)) {
              case "k" -> 10;
              case "m" -> 20;
              default -> 30;
            };
    try {
      long n = Long.parseLong(m.group(1));
      if (n > Long.MAX_VALUE >> shift) {
        throw new NumberFormatException();
      }
      return n << shift;
    } catch (NumberFormatException e) {
      // Unchecked, "999999999999GB" would wrap around past Long.MAX_VALUE into a wrong size.
      throw new IllegalArgumentException(
          "'" + text + "' is larger than any size baton can count; write e.g. \"100MB\"");
    }
  }

  private static IllegalArgumentException wrong(String text, String why) {
    return new IllegalArgumentException(
        "'" + text + "' is not a size" + (why.isEmpty() ? "" : ": " + why) + "; " + FORMS);
  }
}
