package dev.baton.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.dataformat.toml.TomlFactory;

/**
 * A TOML document as plain Java values, read from jackson-core's token stream. A databind mapper
 * (TomlMapper.readTree) gave the same tree but cost hundreds of databind classes, tens of
 * milliseconds of every command's start and megabytes of the supervisor's memory.
 *
 * <p>The TOML factory's parser still loads a few dozen databind classes of its own: it reads the
 * whole document into a databind ObjectNode and hands out a TreeTraversingParser over it
 * (jackson-dataformat-toml 3.2). Those are its node types only, no mapper.
 *
 * <p>A value is a {@link Table}, a {@code List<Object>} (an array), a String (dates and times too:
 * the parser gives them as their text), a Boolean, a Long or, past 64 bits, a BigInteger (whole
 * numbers), a BigDecimal (other numbers, as written: "1.50" stays "1.50"), or a Double (only nan
 * and inf).
 */
final class TomlTree {
  /** One factory for the process: its settings are the defaults and it keeps no state per parse. */
  private static final TomlFactory FACTORY = new TomlFactory();

  /** A table, its keys in the file's order. */
  record Table(Map<String, Object> values) {
    static final Table EMPTY = new Table(Map.of());

    @Nullable Object get(String key) {
      return values.get(key);
    }
  }

  private TomlTree() {}

  /** The top-level table of {@code text}, or a JacksonException locating what is not TOML. */
  static Table parse(String text) {
    try (var parser = FACTORY.createParser(ObjectReadContext.empty(), text)) {
      expect(parser, parser.nextToken(), JsonToken.START_OBJECT);
      return table(parser);
    }
  }

  /**
   * A number's text as the databind tree printed it, which the duration grammar reads and its
   * errors quote: nan and inf in quotes (JSON has no such numbers), others as Java writes them.
   */
  static String numberText(Number n) {
    return n instanceof Double d && !Double.isFinite(d) ? "\"" + d + "\"" : n.toString();
  }

  /** The table whose START_OBJECT was just read, up to its END_OBJECT. */
  private static Table table(JsonParser parser) {
    var values = new LinkedHashMap<String, Object>();
    for (var token = parser.nextToken();
        token != JsonToken.END_OBJECT;
        token = parser.nextToken()) {
      expect(parser, token, JsonToken.PROPERTY_NAME);
      var key = parser.currentName();
      values.put(key, value(parser, parser.nextToken()));
    }
    return new Table(values);
  }

  /** The array whose START_ARRAY was just read, up to its END_ARRAY. */
  private static List<Object> array(JsonParser parser) {
    var items = new ArrayList<Object>();
    for (var token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
      items.add(value(parser, token));
    }
    return items;
  }

  // Recursion is bounded: the TOML parser refuses nesting deeper than StreamReadConstraints allow.
  private static Object value(JsonParser parser, @Nullable JsonToken token) {
    if (token == null) {
      throw new IllegalStateException("the TOML parser's tokens ended inside a table");
    }
    return switch (token) {
      case START_OBJECT -> table(parser);
      case START_ARRAY -> array(parser);
      case VALUE_STRING -> parser.getString();
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NUMBER_INT -> whole(parser);
      case VALUE_NUMBER_FLOAT ->
          parser.getNumberType() == JsonParser.NumberType.BIG_DECIMAL
              ? parser.getDecimalValue()
              : parser.getDoubleValue();
      // Only TomlReadFeature.PARSE_JAVA_TIME, never enabled here, makes embedded objects.
      default -> throw new IllegalStateException("unexpected token from the TOML parser: " + token);
    };
  }

  /** A Long, so that callers check one type, unless the number does not fit one. */
  private static Object whole(JsonParser parser) {
    if (parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
      return parser.getLongValue();
    }
    BigInteger big = parser.getBigIntegerValue();
    if (big.bitLength() < Long.SIZE) {
      return big.longValue();
    }
    return big;
  }

  private static void expect(JsonParser parser, @Nullable JsonToken token, JsonToken expected) {
    if (token != expected) {
      throw new IllegalStateException(
          "the TOML parser gave "
              + token
              + " where "
              + expected
              + " was due, at "
              + parser.currentLocation());
    }
  }
}
