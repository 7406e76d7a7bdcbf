package dev.baton.config;

import dev.baton.config.TomlTree.Table;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * TOML 1.0, read by hand into {@link TomlTree}'s values. Written rather than taken from a library
 * on purpose: jackson-dataformat-toml reads a document through jackson-databind's tree, and the two
 * cost the supervisor, which reads baton.toml again at every deploy, 8 MiB of its resident memory.
 * The tests hold this reader to that parser's answers (TomlReaderTest).
 *
 * <p>A recursive descent over the text with one cursor. The rules about defining a table twice are
 * kept by remembering how each table came to be: an {@link Origin} per table.
 */
final class TomlReader {
  /** Deeper arrays or inline tables are refused: each level is a frame of this reader's stack. */
  static final int MAX_DEPTH = 64;

  /** Where a document is not TOML: its 1-based line and what is wrong. */
  static final class SyntaxError extends RuntimeException {
    private final int line;

    SyntaxError(int line, String message) {
      super(message, null, false, false);
      this.line = line;
    }

    int line() {
      return line;
    }
  }

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

  private static final Pattern DEC_INT = Pattern.compile("[+-]?(?:0|[1-9](?:_?[0-9])*)");
  private static final Pattern HEX_INT = Pattern.compile("0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*");
  private static final Pattern OCT_INT = Pattern.compile("0o[0-7](?:_?[0-7])*");
  private static final Pattern BIN_INT = Pattern.compile("0b[01](?:_?[01])*");
  private static final Pattern FLOAT =
      Pattern.compile(
          "[+-]?(?:0|[1-9](?:_?[0-9])*)"
              + "(?:\\.[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9](?:_?[0-9])*)?|[eE][+-]?[0-9](?:_?[0-9])*)");
  private static final Pattern SPECIAL_FLOAT = Pattern.compile("[+-]?(?:inf|nan)");
  private static final String TIME =
      "(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\\.[0-9]+)?";
  private static final String DATE = "[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])";
  private static final Pattern DATE_TIME =
      Pattern.compile(
          DATE + "(?:[Tt ]" + TIME + "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?|" + TIME);

  private final String text;
  private int pos;
  private int depth;
  private final IdentityHashMap<Table, Origin> origins = new IdentityHashMap<>();

  /** The arrays made by [[header]]s: only these take another table. */
  private final Set<List<Object>> tableArrays = Collections.newSetFromMap(new IdentityHashMap<>());

  private TomlReader(String text) {
    this.text = text;
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

  private static boolean bare(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '-';
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

  private Object word(String word, Object value) {
    if (!text.startsWith(word, pos)) {
      throw error("unknown value; strings go in quotes");
    }
    pos += word.length();
    return value;
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

  /** A number, a date or a time: one token, read by its shape. */
  private Object scalar() {
    int start = pos;
    while (!atEnd() && token(text.charAt(pos))) {
      pos++;
    }
    // A date and a time may be apart by one space: 1979-05-27 07:32:00.
    if (pos - start == 10
        && pos + 3 < text.length()
        && text.charAt(pos) == ' '
        && Character.isDigit(text.charAt(pos + 1))
        && Character.isDigit(text.charAt(pos + 2))
        && text.charAt(pos + 3) == ':') {
      pos++;
      while (!atEnd() && token(text.charAt(pos))) {
        pos++;
      }
    }
    var token = text.substring(start, pos);
    if (token.isEmpty()) {
      pos = start;
      throw error("unknown value '" + printable(text.charAt(pos)) + "'; strings go in quotes");
    }
    if (DEC_INT.matcher(token).matches()) {
      return whole(token.replace("_", ""), 10);
    }
    if (HEX_INT.matcher(token).matches()
        || OCT_INT.matcher(token).matches()
        || BIN_INT.matcher(token).matches()) {
      int radix =
          switch (token.charAt(1)) {
            case 'x' -> 16;
            case 'o' -> 8;
            default -> 2;
          };
      return whole(token.substring(2).replace("_", ""), radix);
    }
    if (FLOAT.matcher(token).matches()) {
      return new BigDecimal(token.replace("_", ""));
    }
    if (SPECIAL_FLOAT.matcher(token).matches()) {
      return token.endsWith("nan")
          ? Double.NaN
          : token.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    if (DATE_TIME.matcher(token).matches()) {
      // As Jackson gives it: a space between date and time becomes a T, and a z a Z.
      var written = token.endsWith("z") ? token.substring(0, token.length() - 1) + 'Z' : token;
      return written.length() > 10 && written.charAt(10) == ' '
          ? written.substring(0, 10) + 'T' + written.substring(11)
          : written;
    }
    pos = start;
    throw error("unknown value '" + token + "'; strings go in quotes");
  }

  private static boolean token(char c) {
    return bare(c) || c == '+' || c == '.' || c == ':';
  }

  /** A Long, so that callers check one type, unless the number does not fit one. */
  private static Object whole(String digits, int radix) {
    var big = new BigInteger(digits, radix);
    return big.bitLength() < Long.SIZE ? (Object) big.longValue() : big;
  }

  // ---- strings

  /** A string on one line: basic (") with escapes, or literal (') as written. */
  private String string(char quote) {
    pos++;
    var out = new StringBuilder();
    while (true) {
      if (atEnd()) {
        throw error("the string is not closed with " + quote);
      }
      char c = text.charAt(pos);
      if (c == quote) {
        pos++;
        return out.toString();
      }
      if (c == '\\' && quote == '"') {
        escape(out);
      } else if (c == '\n' || c == '\r') {
        throw error("the string is not closed with " + quote + " on its line");
      } else {
        plain(c);
        out.append(c);
        pos++;
      }
    }
  }

  /** A string between three quotes, over any number of lines; its first newline is dropped. */
  private String multiLineString(char quote) {
    var delimiter = String.valueOf(quote).repeat(3);
    pos += 3;
    skipFirstNewline();
    var out = new StringBuilder();
    while (true) {
      if (atEnd()) {
        throw error("the string is not closed with " + delimiter);
      }
      if (text.startsWith(delimiter, pos)) {
        return closeMultiLine(out, quote);
      }
      char c = text.charAt(pos);
      if (c == '\\' && quote == '"') {
        if (!lineEndingBackslash()) {
          escape(out);
        }
      } else if (c == '\n' || text.startsWith("\r\n", pos)) {
        newline();
        out.append('\n');
      } else {
        plain(c);
        out.append(c);
        pos++;
      }
    }
  }

  /** \ at the end of a line: the newlines and blanks after it vanish. */
  private boolean lineEndingBackslash() {
    int after = pos + 1;
    while (after < text.length() && (text.charAt(after) == ' ' || text.charAt(after) == '\t')) {
      after++;
    }
    if (after < text.length() && (text.charAt(after) == '\n' || text.charAt(after) == '\r')) {
      pos = after;
      skipBlankLinesNoComments();
      return true;
    }
    return false;
  }

  /** At the closing three quotes, of which up to two more may be the string's own last ones. */
  private String closeMultiLine(StringBuilder out, char quote) {
    int run = 0;
    while (pos + run < text.length() && text.charAt(pos + run) == quote) {
      run++;
    }
    if (run > 5) {
      throw error("too many quotes at the end of a multi-line string");
    }
    out.append(String.valueOf(quote).repeat(run - 3));
    pos += run;
    return out.toString();
  }

  private void skipFirstNewline() {
    if (text.startsWith("\n", pos)) {
      pos++;
    } else if (text.startsWith("\r\n", pos)) {
      pos += 2;
    }
  }

  private void escape(StringBuilder out) {
    if (pos + 1 >= text.length()) {
      throw error("the string ends in the middle of an escape");
    }
    char c = text.charAt(pos + 1);
    pos += 2;
    switch (c) {
      case 'b' -> out.append('\b');
      case 't' -> out.append('\t');
      case 'n' -> out.append('\n');
      case 'f' -> out.append('\f');
      case 'r' -> out.append('\r');
      case '"' -> out.append('"');
      case '\\' -> out.append('\\');
      case 'u' -> out.appendCodePoint(unicode(4));
      case 'U' -> out.appendCodePoint(unicode(8));
      default -> {
        pos -= 2;
        throw error("unknown escape \\" + printable(c) + " in a string");
      }
    }
  }

  private int unicode(int digits) {
    if (pos + digits > text.length()) {
      throw error("a \\u escape needs " + digits + " hex digits");
    }
    var hex = text.substring(pos, pos + digits);
    int code;
    try {
      code = Integer.parseUnsignedInt(hex, 16);
    } catch (NumberFormatException e) {
      throw error("a \\u escape needs " + digits + " hex digits, not '" + hex + "'");
    }
    if (code > Character.MAX_CODE_POINT
        || (code >= 0xD800 && code <= 0xDFFF)
        || hex.contains("+")) {
      throw error("\\u" + hex + " is not a Unicode scalar value");
    }
    pos += digits;
    return code;
  }

  /** Refuses the control characters TOML keeps out of strings and comments (tab aside). */
  private void plain(char c) {
    if ((c < 0x20 && c != '\t') || c == 0x7F) {
      throw error("control character U+%04X is not allowed here".formatted((int) c));
    }
  }

  // ---- blanks, comments and newlines

  private void skipBlank() {
    while (!atEnd() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\t')) {
      pos++;
    }
  }

  /** Blanks, newlines and comments, as an array allows between its values. */
  private void skipBlankLines() {
    while (true) {
      skipBlank();
      if (atEnd()) {
        return;
      }
      char c = text.charAt(pos);
      if (c == '#') {
        comment();
      } else if (c == '\n' || c == '\r') {
        newline();
      } else {
        return;
      }
    }
  }

  private void skipBlankLinesNoComments() {
    while (!atEnd()) {
      char c = text.charAt(pos);
      if (c == ' ' || c == '\t') {
        pos++;
      } else if (c == '\n' || c == '\r') {
        newline();
      } else {
        return;
      }
    }
  }

  private void comment() {
    pos++;
    while (!atEnd() && text.charAt(pos) != '\n' && !text.startsWith("\r\n", pos)) {
      plain(text.charAt(pos));
      pos++;
    }
  }

  private void newline() {
    if (text.charAt(pos) == '\n') {
      pos++;
    } else if (text.startsWith("\r\n", pos)) {
      pos += 2;
    } else {
      throw error("expected the end of the line, not '" + printable(text.charAt(pos)) + "'");
    }
  }

  private void expect(String what, String why) {
    if (!text.startsWith(what, pos)) {
      throw error(
          "expected "
              + what
              + " "
              + why
              + (atEnd()
                  ? ", not the end of the file"
                  : ", not '" + printable(text.charAt(pos)) + "'"));
    }
    pos += what.length();
  }

  private boolean atEnd() {
    return pos >= text.length();
  }

  private SyntaxError error(String message) {
    int line = 1;
    for (int i = 0; i < Math.min(pos, text.length()); i++) {
      if (text.charAt(i) == '\n') {
        line++;
      }
    }
    return new SyntaxError(line, message);
  }

  private static String dotted(List<String> keys) {
    return String.join(".", keys);
  }

  private static String printable(char c) {
    return c < 0x20 || c == 0x7F ? "U+%04X".formatted((int) c) : String.valueOf(c);
  }
}
