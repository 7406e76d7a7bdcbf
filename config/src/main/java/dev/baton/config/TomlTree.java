package dev.baton.config;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A TOML document as plain Java values, as {@link TomlReader} reads it.
 *
 * <p>A value is a {@link Table}, a {@code List<Object>} (an array), a String (dates and times too,
 * as their text), a Boolean, a Long or, past 64 bits, a BigInteger (whole numbers), a BigDecimal
 * (other numbers, as written: "1.50" stays "1.50"), or a Double (only nan and inf).
 */
final class TomlTree {
  /** A table, its keys in the file's order. */
  record Table(Map<String, Object> values) {
    static final Table EMPTY = new Table(Map.of());

    @Nullable Object get(String key) {
      return values.get(key);
    }
  }

  private TomlTree() {}

  /**
   * The top-level table of {@code text}, or a {@link TomlReader.SyntaxError} locating what is not
   * TOML.
   */
  static Table parse(String text) {
    return TomlReader.read(text);
  }

  /**
   * A number's text as the databind tree printed it, which the duration grammar reads and its
   * errors quote: nan and inf in quotes (JSON has no such numbers), others as Java writes them.
   */
  static String numberText(Number n) {
    return n instanceof Double d && !Double.isFinite(d) ? "\"" + d + "\"" : n.toString();
  }
}
