package dev.baton.config;

import dev.baton.os.ListenAddress;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One table of a TOML file, baton.toml or a rollout file, read strictly: every key must be known,
 * every value of the type asked for, and every error is a {@link ConfigException} that names the
 * file, the key's line when it can be found, the table and the key.
 */
public final class TomlTable {
  private final Path file;
  private final String text;

  /** "" for the top level, "readiness" for [readiness], "listen#1" for the second [[listen]]. */
  private final String path;

  private final TomlTree.Table node;

  private TomlTable(Path file, String text, String path, TomlTree.Table node) {
    this.file = file;
    this.text = text;
    this.path = path;
    this.node = node;
  }

  /** The top level of {@code text}, read from {@code file}. */
  public static TomlTable parse(Path file, String text) {
    try {
      return new TomlTable(file, text, "", TomlTree.parse(text));
    } catch (TomlReader.SyntaxError e) {
      throw new ConfigException(file + ":" + e.line() + ": not valid TOML: " + e.getMessage(), e);
    }
  }

  /** Refuses any key not among {@code keys}, suggesting the one it was likely meant to be. */
  public void allow(String... keys) {
    var known = List.of(keys);
    for (var key : node.values().keySet()) {
      if (!known.contains(key)) {
        var hint = closest(key, known).map(k -> "did you mean '" + k + "'? ").orElse("");
        throw new ConfigException(
            where(key)
                + ": unknown key '"
                + key
                + "' in "
                + describe()
                + "; "
                + hint
                + "known keys: "
                + String.join(", ", known));
      }
    }
  }

  public boolean has(String key) {
    return node.get(key) != null;
  }

  public Optional<TomlTable> table(String key) {
    var child = node.get(key);
    if (child == null) {
      return Optional.empty();
    }
    if (!(child instanceof TomlTree.Table table)) {
      throw invalid(key, "must be a table: [" + key + "]");
    }
    return Optional.of(new TomlTable(file, text, childPath(key), table));
  }

  /** The table, or an empty one that gives every key's default and names the table in errors. */
  public TomlTable tableOrEmpty(String key) {
    return table(key)
        .orElseGet(() -> new TomlTable(file, text, childPath(key), TomlTree.Table.EMPTY));
  }

  /** The tables of an array of tables, [[key]]; none when it is absent. */
  public List<TomlTable> tables(String key) {
    var child = node.get(key);
    if (child == null) {
      return List.of();
    }
    if (!(child instanceof List<?> items)
        || items.stream().anyMatch(t -> !(t instanceof TomlTree.Table))) {
      throw invalid(key, "must be an array of tables: [[" + key + "]]");
    }
    var tables = new ArrayList<TomlTable>();
    for (int i = 0; i < items.size(); i++) {
      tables.add(
          new TomlTable(file, text, childPath(key) + "#" + i, (TomlTree.Table) items.get(i)));
    }
    return tables;
  }

  public Optional<String> string(String key) {
    var v = node.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String s)) {
      throw invalid(key, "must be a string in quotes");
    }
    return Optional.of(s);
  }

  /** A path, relative to {@code base} (the file's directory) unless absolute. */
  public Optional<Path> path(String key, Path base) {
    return string(key)
        .map(
            text -> {
              try {
                return base.resolve(text).normalize();
              } catch (InvalidPathException e) {
                // Found by ConfigFuzzTest: a NUL in a path escaped as an InvalidPathException.
                throw invalid(key, "is not a usable path (" + e.getReason() + ")");
              }
            });
  }

  public InetSocketAddress tcpAddress(String key, String fallback) {
    var text = string(key).orElse(fallback);
    try {
      if (ListenAddress.parse(text, false) instanceof ListenAddress.Tcp tcp) {
        return tcp.address();
      }
    } catch (IllegalArgumentException e) {
      throw invalid(key, e.getMessage());
    }
    throw invalid(key, "must be a TCP address such as \"127.0.0.1:7070\"");
  }

  public Optional<Boolean> bool(String key) {
    var v = node.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof Boolean b)) {
      throw invalid(key, "must be true or false");
    }
    return Optional.of(b);
  }

  public Optional<Integer> integer(String key) {
    var v = node.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!isWhole(v)) {
      throw invalid(key, "must be a whole number");
    }
    if (!(v instanceof Long n && n == n.intValue())) {
      // Found by ConfigFuzzTest: intValue() threw for numbers past 32 bits.
      throw invalid(key, "is far too large a number (" + v + ")");
    }
    return Optional.of(n.intValue());
  }

  /** A duration longer than zero, in {@link Durations}' grammar; a bare number is seconds. */
  public Optional<Duration> duration(String key) {
    var v = node.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String) && !(v instanceof Number)) {
      throw invalid(key, "must be a duration in quotes, e.g. \"10s\"");
    }
    try {
      var d = Durations.parse(v instanceof String s ? s : TomlTree.numberText((Number) v));
      if (d.isZero()) {
        throw new IllegalArgumentException("must be longer than zero");
      }
      return Optional.of(d);
    } catch (IllegalArgumentException e) {
      throw invalid(key, e.getMessage());
    }
  }

  /** A size of at least 1KB, in {@link Sizes}' grammar; a bare number is bytes. */
  public Optional<Long> size(String key) {
    var v = node.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String) && !isWhole(v)) {
      throw invalid(key, "must be a size in quotes, e.g. \"100MB\"");
    }
    try {
      long bytes = Sizes.parse(v instanceof String s ? s : v.toString());
      if (bytes < 1024) {
        throw new IllegalArgumentException("must be at least 1KB");
      }
      return Optional.of(bytes);
    } catch (IllegalArgumentException e) {
      throw invalid(key, e.getMessage());
    }
  }

  /** A program and its arguments, never given to a shell. */
  public Optional<List<String>> argv(String key) {
    var v = node.get(key);
    if (v != null && !isStrings(v)) {
      throw invalid(
          key,
          "must be an array of strings (argv), e.g. [\"gunicorn\", \"app:app\"]; baton never runs a shell");
    }
    var argv = strings(key);
    if (argv.isPresent() && argv.get().isEmpty()) {
      throw invalid(
          key, "must name a program, e.g. " + key + " = [\"./server\", \"--port\", \"0\"]");
    }
    return argv;
  }

  public Optional<List<String>> strings(String key) {
    var v = node.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!isStrings(v)) {
      throw invalid(key, "must be an array of strings in quotes, e.g. [\"a\", \"b\"]");
    }
    return Optional.of(((List<?>) v).stream().map(String.class::cast).toList());
  }

  /** A table of strings, such as an environment; empty when absent. */
  public Map<String, String> stringMap(String key) {
    var v = node.get(key);
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof TomlTree.Table table)) {
      throw invalid(key, "must be a table of strings, e.g. " + key + " = { KEY = \"value\" }");
    }
    var map = new LinkedHashMap<String, String>();
    for (var e : table.values().entrySet()) {
      if (!(e.getValue() instanceof String s)) {
        throw invalid(key, "value of '" + e.getKey() + "' must be a string in quotes");
      }
      map.put(e.getKey(), s);
    }
    return map;
  }

  /** "file:line: [table] key problem". */
  public ConfigException invalid(String key, @Nullable String problem) {
    return new ConfigException(where(key) + ": " + describe() + " " + key + " " + problem);
  }

  /** "file: [table] needs key, e.g. example". */
  public ConfigException missing(String key, String example) {
    return new ConfigException(file + ": " + describe() + " needs " + key + ", e.g. " + example);
  }

  private static boolean isWhole(Object v) {
    return v instanceof Long || v instanceof BigInteger;
  }

  private static boolean isStrings(Object v) {
    return v instanceof List<?> items && items.stream().allMatch(item -> item instanceof String);
  }

  private String childPath(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  private String describe() {
    if (path.isEmpty()) {
      return "the top level";
    }
    int hash = path.indexOf('#');
    return hash < 0
        ? "[" + path + "]"
        : "[["
            + path.substring(0, hash)
            + "]] #"
            + (Integer.parseInt(path.substring(hash + 1)) + 1);
  }

  /** "file:line" for the key's line in this table, or just "file" when it cannot be found. */
  private String where(String key) {
    var lines = text.split("\n", -1);
    int hash = path.indexOf('#');
    var wantTable = hash < 0 ? path : path.substring(0, hash);
    int wantIndex = hash < 0 ? 0 : Integer.parseInt(path.substring(hash + 1));
    var current = ""; // the top level, until the first [table]
    int index = 0;
    var keyPattern = Pattern.compile("\\s*\"?" + Pattern.quote(key) + "\"?\\s*=.*");
    for (int i = 0; i < lines.length; i++) {
      var line = lines[i].strip();
      if (line.startsWith("[")) {
        var name = line.replaceAll("^\\[\\[?\\s*|\\s*\\]\\]?.*$", "");
        index = name.equals(current) && line.startsWith("[[") ? index + 1 : 0;
        current = name;
        if (current.equals(key) && wantTable.isEmpty()) {
          return file + ":" + (i + 1);
        }
        continue;
      }
      if (current.equals(wantTable)
          && index == wantIndex
          && keyPattern.matcher(lines[i]).matches()) {
        return file + ":" + (i + 1);
      }
    }
    return file.toString();
  }

  /** The known key within two edits of {@code key}, if any: the likely typo's fix. */
  private static Optional<String> closest(String key, List<String> known) {
    Optional<String> best = Optional.empty();
    int bestDistance = 3;
    for (var k : known) {
      int d = distance(key, k);
      if (d < bestDistance) {
        best = Optional.of(k);
        bestDistance = d;
      }
    }
    return best;
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    var prev = new int[b.length() + 1];
    var cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      var t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
