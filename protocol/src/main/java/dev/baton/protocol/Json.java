package dev.baton.protocol;

import java.io.StringWriter;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/**
 * JSON through Jackson's streaming core alone: a document is read into plain maps, lists and
 * scalars and looked at through {@link Fields}; one is written through a {@link JsonGenerator}.
 *
 * <p>Not databind, on purpose: building an ObjectMapper and its serializers costs a CLI command
 * about 100 ms of its start and the supervisor about 16 MiB of resident classes, for messages whose
 * every key this package names anyway.
 */
public final class Json {
  private static final JsonFactory FACTORY = new JsonFactory();

  private Json() {}

  /**
   * One JSON value: a {@code Map<String, Object>} in the document's key order, a {@code List}, a
   * String, a Long (or a BigInteger past its range), a Double, a Boolean, or null for JSON's null
   * and for an empty text.
   *
   * @throws JacksonException when the text is not one JSON value
   */
  public static @Nullable Object parse(String text) {
    try (var parser = FACTORY.createParser(ObjectReadContext.empty(), text)) {
      var token = parser.nextToken();
      if (token == null) {
        return null;
      }
      var value = value(parser, token);
      if (parser.nextToken() != null) {
        throw new IllegalArgumentException("more than one JSON value");
      }
      return value;
    }
  }

  private static @Nullable Object value(JsonParser parser, JsonToken token) {
    return switch (token) {
      case START_OBJECT -> {
        var object = new LinkedHashMap<String, @Nullable Object>();
        for (var t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
          var name = parser.currentName();
          object.put(name, value(parser, parser.nextToken()));
        }
        yield object;
      }
      case START_ARRAY -> {
        var array = new ArrayList<@Nullable Object>();
        for (var t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
          array.add(value(parser, t));
        }
        yield array;
      }
      case VALUE_STRING -> parser.getString();
      case VALUE_NUMBER_INT ->
          parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
              ? parser.getBigIntegerValue()
              : parser.getLongValue();
      case VALUE_NUMBER_FLOAT -> parser.getDoubleValue();
      case VALUE_TRUE -> true;
      case VALUE_FALSE -> false;
      case VALUE_NULL -> null;
      default -> throw new IllegalArgumentException("unexpected " + token);
    };
  }

  /** What {@code body} writes, as one line of compact JSON. */
  public static String write(Consumer<JsonGenerator> body) {
    var out = new StringWriter();
    try (var generator = FACTORY.createGenerator(ObjectWriteContext.empty(), out)) {
      body.accept(generator);
    }
    return out.toString();
  }

  /** A value {@link #parse} returned, written back as JSON: for messages that quote a request. */
  public static String write(@Nullable Object value) {
    return write(generator -> writeValue(generator, value));
  }

  private static void writeValue(JsonGenerator out, @Nullable Object value) {
    switch (value) {
      case null -> out.writeNull();
      case Map<?, ?> map -> {
        out.writeStartObject();
        for (var entry : map.entrySet()) {
          out.writeName(String.valueOf(entry.getKey()));
          writeValue(out, entry.getValue());
        }
        out.writeEndObject();
      }
      case List<?> list -> {
        out.writeStartArray();
        list.forEach(element -> writeValue(out, element));
        out.writeEndArray();
      }
      case String s -> out.writeString(s);
      case Boolean b -> out.writeBoolean(b);
      case Long l -> out.writeNumber(l);
      case Double d -> out.writeNumber(d);
      case java.math.BigInteger b -> out.writeNumber(b);
      default -> out.writeString(value.toString());
    }
  }

  /** A list of strings as a JSON array. */
  public static void writeStrings(JsonGenerator out, String name, List<String> strings) {
    out.writeName(name);
    out.writeStartArray();
    strings.forEach(out::writeString);
    out.writeEndArray();
  }

  /** A string, or null when there is none. */
  public static void writeOptional(JsonGenerator out, String name, Optional<?> value) {
    if (value.isPresent()) {
      out.writeStringProperty(name, value.get().toString());
    } else {
      out.writeNullProperty(name);
    }
  }

  /**
   * The keys of one JSON object, each read as the type asked for. A key that is missing or null
   * reads as the type's empty value (0, false, "", empty); one of the wrong type is an {@link
   * IllegalArgumentException} that names it. Keys nobody asks for are ignored, so that a newer peer
   * may say more than this version knows.
   */
  public static final class Fields {
    private final Map<?, ?> object;

    private Fields(Map<?, ?> object) {
      this.object = object;
    }

    /** {@code value} as an object, or an exception saying what {@code what} should have been. */
    public static Fields of(@Nullable Object value, String what) {
      if (value instanceof Map<?, ?> map) {
        return new Fields(map);
      }
      throw new IllegalArgumentException(what + " must be a JSON object");
    }

    /** Refuses an object that lacks any of {@code keys}, even as null. */
    public Fields require(String what, String... keys) {
      for (var key : keys) {
        if (!object.containsKey(key)) {
          throw new IllegalArgumentException(what + " needs \"" + key + "\"");
        }
      }
      return this;
    }

    public boolean has(String key) {
      return object.get(key) != null;
    }

    public @Nullable Object raw(String key) {
      return object.get(key);
    }

    public String string(String key) {
      return optionalString(key).orElse("");
    }

    public Optional<String> optionalString(String key) {
      return optional(key, String.class, "a string");
    }

    public int integer(String key) {
      return optionalInteger(key).orElse(0);
    }

    public Optional<Integer> optionalInteger(String key) {
      return optional(key, Long.class, "an integer")
          .map(
              l -> {
                if (l != l.intValue()) {
                  throw new IllegalArgumentException("\"" + key + "\" is out of range: " + l);
                }
                return l.intValue();
              });
    }

    public long longInteger(String key) {
      return optional(key, Long.class, "an integer").orElse(0L);
    }

    public double number(String key) {
      var value = object.get(key);
      if (value instanceof Long l) {
        return l;
      }
      return optional(key, Double.class, "a number").orElse(0.0);
    }

    public boolean bool(String key) {
      return optional(key, Boolean.class, "true or false").orElse(false);
    }

    public Optional<Instant> optionalInstant(String key) {
      return optionalString(key)
          .map(
              s -> {
                try {
                  return Instant.parse(s);
                } catch (DateTimeParseException e) {
                  throw new IllegalArgumentException(
                      "\"" + key + "\" must be an ISO-8601 instant, not " + s, e);
                }
              });
    }

    public Instant instant(String key) {
      return optionalInstant(key).orElse(Instant.EPOCH);
    }

    /** The lowercase name of one of {@code type}'s constants. */
    public <E extends Enum<E>> Optional<E> optionalEnum(String key, Class<E> type) {
      return optionalString(key)
          .map(
              name -> {
                for (var constant : type.getEnumConstants()) {
                  if (constant.name().equalsIgnoreCase(name)) {
                    return constant;
                  }
                }
                throw new IllegalArgumentException("\"" + key + "\" has an unknown value: " + name);
              });
    }

    public List<String> strings(String key) {
      return list(key, element -> cast(key, element, String.class, "a string"));
    }

    public List<Integer> integers(String key) {
      return list(key, element -> cast(key, element, Long.class, "an integer").intValue());
    }

    public Map<String, String> stringMap(String key) {
      var value = object.get(key);
      if (value == null) {
        return Map.of();
      }
      var map = Fields.of(value, "\"" + key + "\"").object;
      var strings = new LinkedHashMap<String, String>();
      map.forEach(
          (k, v) ->
              strings.put(String.valueOf(k), cast(key + "." + k, v, String.class, "a string")));
      return strings;
    }

    /** Each element of the array at {@code key}, made into a T; empty when it is missing. */
    public <T> List<T> list(String key, Function<@Nullable Object, T> element) {
      var value = object.get(key);
      if (value == null) {
        return List.of();
      }
      if (!(value instanceof List<?> list)) {
        throw new IllegalArgumentException("\"" + key + "\" must be an array");
      }
      var out = new ArrayList<T>(list.size());
      for (var e : list) {
        out.add(element.apply(e));
      }
      return out;
    }

    private <T> Optional<T> optional(String key, Class<T> type, String what) {
      var value = object.get(key);
      return value == null ? Optional.empty() : Optional.of(cast(key, value, type, what));
    }

    private static <T> T cast(String key, @Nullable Object value, Class<T> type, String what) {
      if (!type.isInstance(value)) {
        throw new IllegalArgumentException("\"" + key + "\" must be " + what);
      }
      return type.cast(value);
    }
  }
}
