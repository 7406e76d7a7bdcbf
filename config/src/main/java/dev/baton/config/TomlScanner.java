package dev.baton.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.regex.Pattern;

/**
 * The characters under {@link TomlReader}: one cursor over the text, and what reads at it without
 * knowing about tables (strings, numbers, dates, blanks, comments, newlines), each refusing what
 * TOML refuses with a {@link SyntaxError} that names the line.
 */
abstract class TomlScanner {
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

  static final Pattern DEC_INT = Pattern.compile("[+-]?(?:0|[1-9](?:_?[0-9])*)");
  static final Pattern HEX_INT = Pattern.compile("0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*");
  static final Pattern OCT_INT = Pattern.compile("0o[0-7](?:_?[0-7])*");
  static final Pattern BIN_INT = Pattern.compile("0b[01](?:_?[01])*");
  static final Pattern FLOAT =
      Pattern.compile(
          "[+-]?(?:0|[1-9](?:_?[0-9])*)"
              + "(?:\\.[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9](?:_?[0-9])*)?|[eE][+-]?[0-9](?:_?[0-9])*)");
  static final Pattern SPECIAL_FLOAT = Pattern.compile("[+-]?(?:inf|nan)");
  static final String TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\\.[0-9]+)?";
  static final String DATE = "[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])";
  static final Pattern DATE_TIME =
      Pattern.compile(
          DATE + "(?:[Tt ]" + TIME + "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?|" + TIME);

  final String text;
  int pos;

  static boolean bare(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '-';
  }

  Object word(String word, Object value) {
    if (!text.startsWith(word, pos)) {
      throw error("unknown value; strings go in quotes");
    }
    pos += word.length();
    return value;
  }

  /** A number, a date or a time: one token, read by its shape. */
  Object scalar() {
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

  static boolean token(char c) {
    return bare(c) || c == '+' || c == '.' || c == ':';
  }

  /** A Long, so that callers check one type, unless the number does not fit one. */
  static Object whole(String digits, int radix) {
    var big = new BigInteger(digits, radix);
    return big.bitLength() < Long.SIZE ? (Object) big.longValue() : big;
  }

  // ---- strings

  /** A string on one line: basic (") with escapes, or literal (') as written. */
  String string(char quote) {
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
  String multiLineString(char quote) {
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
  boolean lineEndingBackslash() {
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
  String closeMultiLine(StringBuilder out, char quote) {
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

  void skipFirstNewline() {
    if (text.startsWith("\n", pos)) {
      pos++;
    } else if (text.startsWith("\r\n", pos)) {
      pos += 2;
    }
  }

  void escape(StringBuilder out) {
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

  int unicode(int digits) {
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
  void plain(char c) {
    if ((c < 0x20 && c != '\t') || c == 0x7F) {
      throw error("control character U+%04X is not allowed here".formatted((int) c));
    }
  }

  // ---- blanks, comments and newlines

  void skipBlank() {
    while (!atEnd() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\t')) {
      pos++;
    }
  }

  /** Blanks, newlines and comments, as an array allows between its values. */
  void skipBlankLines() {
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

  void skipBlankLinesNoComments() {
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

  void comment() {
    pos++;
    while (!atEnd() && text.charAt(pos) != '\n' && !text.startsWith("\r\n", pos)) {
      plain(text.charAt(pos));
      pos++;
    }
  }

  void newline() {
    if (text.charAt(pos) == '\n') {
      pos++;
    } else if (text.startsWith("\r\n", pos)) {
      pos += 2;
    } else {
      throw error("expected the end of the line, not '" + printable(text.charAt(pos)) + "'");
    }
  }

  void expect(String what, String why) {
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

  boolean atEnd() {
    return pos >= text.length();
  }

  SyntaxError error(String message) {
    int line = 1;
    for (int i = 0; i < Math.min(pos, text.length()); i++) {
      if (text.charAt(i) == '\n') {
        line++;
      }
    }
    return new SyntaxError(line, message);
  }

  static String printable(char c) {
    return c < 0x20 || c == 0x7F ? "U+%04X".formatted((int) c) : String.valueOf(c);
  }

  TomlScanner(String text) {
    this.text = text;
  }
}
