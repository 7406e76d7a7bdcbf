package dev.baton.config;

import dev.baton.config.TomlTree.Table;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * TOML 1.0, read by hand into {@link TomlTree}'s values. Written rather than taken from a library
 * on purpose: jackson-dataformat-toml reads a document through jackson-databind's tree, which the
 * supervisor loaded to read baton.toml again at every deploy (0.8 MiB of its idle RSS,
 * BENCHMARKS.md). The tests hold this reader to that parser's answers (TomlReaderTest).
 *
 * <p>A recursive descent over {@link TomlScanner}'s cursor. The rules about defining a table twice
 * are kept by remembering how each table came to be: an {@link Origin} per table.
 */
final class TomlReader extends TomlScanner {
  /** Deeper arrays or inline tables are refused: each level is a frame of this reader's stack. */
  static final int MAX_DEPTH = 64;

  /** How a table came to be, which decides what may still add to it. */
  private enum Origin {
    /** On the way to a [header]'s table: a later [header] of its own may still define it. */
    IMPLICIT,
    /** By its [header] or as an element of [[header]]. */
    HEADER,
    /** By a dotted key (a.b = 1 makes a): more dotted keys in the same section extend it. */
    DOTTED,
    /** { ... }: complete as written. */
    INLINE
  }

  private int depth;
  private final IdentityHashMap<Table, Origin> origins = new IdentityHashMap<>();

  /** The arrays made by [[header]]s: only these take another table. */
  private final Set<List<Object>> tableArrays = Collections.newSetFromMap(new IdentityHashMap<>());

  private TomlReader(String text) {
    super(text);
  }

  /** The top-level table of {@code text}; a {@link SyntaxError} where it is not TOML. */
  static Table read(String text) {
    return new TomlReader(text).document();
  }

  private Table document() {
    var root = table(Origin.HEADER);
    var current = root;
    if (text.startsWith("\uFEFF")) {
      pos = 1;
    }
    while (true) {
      skipBlank();
      if (atEnd()) {
        return root;
      }
      char c = text.charAt(pos);
      if (c == '\n' || c == '\r') {
        newline();
        continue;
      }
      if (c == '#') {
        comment();
      } else if (c == '[') {
        current = header(root);
      } else {
        keyValue(current);
      }
      skipBlank();
      if (!atEnd() && text.charAt(pos) == '#') {
        comment();
      }
      if (!atEnd()) {
        newline();
      }
    }
  }

  // ---- tables and keys

  private Table table(Origin origin) {
    var table = new Table(new LinkedHashMap<>());
    origins.put(table, origin);
    return table;
  }

  /** [a.b] or [[a.b]]: the table that the following key/value pairs go into. */
  private Table header(Table root) {
    boolean array = text.startsWith("[[", pos);
    pos += array ? 2 : 1;
    skipBlank();
    var keys = key();
    skipBlank();
    expect(array ? "]]" : "]", "to end the table's header");
    var parent = root;
    for (var key : keys.subList(0, keys.size() - 1)) {
      parent = descend(parent, key, keys);
    }
    var last = keys.getLast();
    var existing = parent.values().get(last);
    if (array) {
      if (existing == null) {
        var list = new ArrayList<Object>();
        tableArrays.add(list);
        parent.values().put(last, list);
        existing = list;
      }
      if (!(existing instanceof List<?> list) || !tableArrays.contains(list)) {
        throw error("[[" + dotted(keys) + "]] names a value that is not an array of tables");
      }
      var element = table(Origin.HEADER);
      @SuppressWarnings("unchecked")
      var tables = (List<Object>) list;
      tables.add(element);
      return element;
    }
    if (existing == null) {
      var created = table(Origin.HEADER);
      parent.values().put(last, created);
      return created;
    }
    if (existing instanceof Table t && origins.get(t) == Origin.IMPLICIT) {
      origins.put(t, Origin.HEADER);
      return t;
    }
    throw error("table [" + dotted(keys) + "] is defined twice");
  }

  /** The table named {@code key} in {@code parent} on the way to a header's table. */
  private Table descend(Table parent, String key, List<String> keys) {
    var value = parent.values().get(key);
    if (value == null) {
      var created = table(Origin.IMPLICIT);
      parent.values().put(key, created);
      return created;
    }
    if (value instanceof Table t && origins.get(t) != Origin.INLINE) {
      return t;
    }
    if (value instanceof List<?> list && tableArrays.contains(list)) {
      return (Table) list.getLast();
    }
    throw error("[" + dotted(keys) + "] goes through '" + key + "', which is not a table");
  }

  /** key = value, into {@code into}; a dotted key makes or extends tables on the way. */
  private void keyValue(Table into) {
    var keys = key();
    skipBlank();
    expect("=", "after the key " + dotted(keys));
    skipBlank();
    var target = into;
    for (var key : keys.subList(0, keys.size() - 1)) {
      var value = target.values().get(key);
      if (value == null) {
        var created = table(Origin.DOTTED);
        target.values().put(key, created);
        target = created;
      } else if (value instanceof Table t && origins.get(t) == Origin.DOTTED) {
        target = t;
      } else {
        throw error("the key " + dotted(keys) + " adds to '" + key + "', which is already defined");
      }
    }
    int at = pos;
    var value = value();
    var last = keys.getLast();
    if (target.values().containsKey(last)) {
      pos = at;
      throw error("the key " + dotted(keys) + " is defined twice");
    }
    target.values().put(last, value);
  }

  /** A key, dotted or not: its parts. */
  private List<String> key() {
    var keys = new ArrayList<String>();
    while (true) {
      keys.add(simpleKey());
      skipBlank();
      if (atEnd() || text.charAt(pos) != '.') {
        return keys;
      }
      pos++;
      skipBlank();
    }
  }

  private String simpleKey() {
    if (atEnd()) {
      throw error("a key is missing");
    }
    char c = text.charAt(pos);
    if (c == '"') {
      if (text.startsWith("\"\"\"", pos)) {
        throw error("a key cannot be a multi-line string");
      }
      return string('"');
    }
    if (c == '\'') {
      if (text.startsWith("'''", pos)) {
        throw error("a key cannot be a multi-line string");
      }
      return string('\'');
    }
    int start = pos;
    while (!atEnd() && bare(text.charAt(pos))) {
      pos++;
    }
    if (pos == start) {
      throw error("a key is missing before '" + printable(c) + "'");
    }
    return text.substring(start, pos);
  }

  // ---- values

  private Object value() {
    if (atEnd()) {
      throw error("a value is missing");
    }
    char c = text.charAt(pos);
    return switch (c) {
      case '"' -> text.startsWith("\"\"\"", pos) ? multiLineString('"') : string('"');
      case '\'' -> text.startsWith("'''", pos) ? multiLineString('\'') : string('\'');
      case '[' -> nested(this::array);
      case '{' -> nested(this::inlineTable);
      case 't' -> word("true", true);
      case 'f' -> word("false", false);
      default -> scalar();
    };
  }

  private interface Reader {
    Object read();
  }

  private Object nested(Reader reader) {
    if (++depth > MAX_DEPTH) {
      throw error("arrays and inline tables nest deeper than " + MAX_DEPTH);
    }
    try {
      return reader.read();
    } finally {
      depth--;
    }
  }

  /** [ a, b, ] over any number of lines, with comments between. */
  private List<Object> array() {
    pos++;
    var items = new ArrayList<Object>();
    while (true) {
      skipBlankLines();
      if (atEnd()) {
        throw error("the array is not closed with ]");
      }
      if (text.charAt(pos) == ']') {
        pos++;
        return items;
      }
      items.add(value());
      skipBlankLines();
      if (atEnd()) {
        throw error("the array is not closed with ]");
      }
      char c = text.charAt(pos);
      if (c == ',') {
        pos++;
      } else if (c != ']') {
        throw error("expected , or ] in the array, not '" + printable(c) + "'");
      }
    }
  }

  /**
   * { a = 1, b.c = 2 }. As TOML 1.1 allows and Jackson reads: over several lines, with comments,
   * and with a comma after the last pair.
   */
  private Table inlineTable() {
    pos++;
    var table = table(Origin.HEADER);
    while (true) {
      skipBlankLines();
      if (atEnd()) {
        throw error("the inline table is not closed with }");
      }
      if (text.charAt(pos) == '}') {
        pos++;
        freeze(table);
        return table;
      }
      keyValue(table);
      skipBlankLines();
      if (atEnd()) {
        throw error("the inline table is not closed with }");
      }
      char c = text.charAt(pos);
      if (c == ',') {
        pos++;
      } else if (c != '}') {
        throw error("expected , or } in the inline table, not '" + printable(c) + "'");
      }
    }
  }

  /** An inline table and the tables its dotted keys made are complete: nothing adds to them. */
  private void freeze(Table table) {
    origins.put(table, Origin.INLINE);
    for (var value : table.values().values()) {
      if (value instanceof Table t && origins.get(t) == Origin.DOTTED) {
        freeze(t);
      }
    }
  }

  private static String dotted(List<String> keys) {
    return String.join(".", keys);
  }
}
