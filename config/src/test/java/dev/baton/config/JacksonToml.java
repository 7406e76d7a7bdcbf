package dev.baton.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.dataformat.toml.TomlFactory;

/**
 * jackson-dataformat-toml's reading of a document, in {@link TomlTree}'s values: the oracle that
 * {@link TomlReader} is held to. It was baton's parser until the supervisor's memory asked for one
 * without jackson-databind under it.
 */
final class JacksonToml {
  private static final TomlFactory FACTORY = new TomlFactory();

  private JacksonToml() {}

  static TomlTree.Table parse(String text) {
    try (var parser = FACTORY.createParser(ObjectReadContext.empty(), text)) {
      expect(parser.nextToken(), JsonToken.START_OBJECT);
      return table(parser);
    }
  }

  private static TomlTree.Table table(JsonParser parser) {
    var values = new LinkedHashMap<String, Object>();
    for (var token = parser.nextToken();
        token != JsonToken.END_OBJECT;
        token = parser.nextToken()) {
      expect(token, JsonToken.PROPERTY_NAME);
      var key = parser.currentName();
      values.put(key, value(parser, parser.nextToken()));
    }
    return new TomlTree.Table(values);
  }

  private static List<Object> array(JsonParser parser) {
    var items = new ArrayList<Object>();
    for (var token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
      items.add(value(parser, token));
    }
    return items;
  }

  private static Object value(JsonParser parser, @Nullable JsonToken token) {
    if (token == null) {
      throw new IllegalStateException("tokens ended inside a table");
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
      default -> throw new IllegalStateException("unexpected token " + token);
    };
  }

  private static Object whole(JsonParser parser) {
    if (parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
      return parser.getLongValue();
    }
    BigInteger big = parser.getBigIntegerValue();
    return big.bitLength() < Long.SIZE ? (Object) big.longValue() : big;
  }

  private static void expect(@Nullable JsonToken token, JsonToken expected) {
    if (token != expected) {
      throw new IllegalStateException("got " + token + " where " + expected + " was due");
    }
  }
}
