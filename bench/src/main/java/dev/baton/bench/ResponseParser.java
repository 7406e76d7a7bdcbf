package dev.baton.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Follows one HTTP/1.x response through the bytes as they arrive, in pieces of any size. It keeps
 * only what the load generator needs: where the response ends, its status, and whether the
 * connection stays open. Body bytes are skipped, never copied, and nothing is allocated per
 * response, so one parser per connection serves millions of requests; only a parser made to keep a
 * body's head copies that many bytes of each body (see {@link Load#countAnswers()}).
 */
final class ResponseParser {

  enum Progress {
    /**
     * The response is not complete yet; feed more bytes, or call {@link #completeAtEof()} at EOF.
     */
    MORE,
    /** A whole final response was read; bytes after it are left in the buffer. */
    DONE,
    /** The bytes are not an HTTP/1.x response; {@link #error()} says why. */
    MALFORMED
  }

  private enum State {
    STATUS_LINE,
    HEADER_LINE,
    BODY,
    BODY_UNTIL_EOF,
    CHUNK_SIZE,
    CHUNK_DATA,
    CHUNK_END,
    TRAILER,
    DONE
  }

  /** Longer header lines are rejected rather than buffered without bound. */
  static final int MAX_LINE = 8192;

  private static final byte[] CONTENT_LENGTH = bytes("content-length");
  private static final byte[] TRANSFER_ENCODING = bytes("transfer-encoding");
  private static final byte[] CONNECTION = bytes("connection");
  private static final byte[] CHUNKED = bytes("chunked");
  private static final byte[] CLOSE = bytes("close");
  private static final byte[] KEEP_ALIVE = bytes("keep-alive");

  private final byte[] line = new byte[MAX_LINE];
  private int lineLength;
  private State state = State.STATUS_LINE;
  private int status;
  private boolean http10;
  private boolean closeHeader;
  private boolean keepAliveHeader;
  private boolean chunked;
  private boolean otherTransferEncoding;
  private long contentLength = -1;
  private long remaining;
  private String error = "";

  /** The first bytes of the body, up to the array's length; none unless asked for. */
  private final byte[] bodyHead;

  private int bodyHeadLength;

  ResponseParser() {
    this(0);
  }

  /** A parser that also keeps the first {@code bodyHead} bytes of each body. */
  ResponseParser(int bodyHead) {
    this.bodyHead = new byte[bodyHead];
  }

  /** Forgets the last response, to follow the next one. */
  void reset() {
    resetResponse();
    error = "";
  }

  private void resetResponse() {
    lineLength = 0;
    state = State.STATUS_LINE;
    status = 0;
    http10 = false;
    closeHeader = false;
    keepAliveHeader = false;
    chunked = false;
    otherTransferEncoding = false;
    contentLength = -1;
    remaining = 0;
    bodyHeadLength = 0;
  }

  /** Consumes bytes from {@code in} up to the end of the response, or all of them. */
  Progress feed(ByteBuffer in) {
    while (true) {
      switch (state) {
        case STATUS_LINE, HEADER_LINE, CHUNK_SIZE, CHUNK_END, TRAILER -> {
          if (!readLine(in)) {
            return error.isEmpty() ? Progress.MORE : Progress.MALFORMED;
          }
          if (!onLine()) {
            return Progress.MALFORMED;
          }
          lineLength = 0;
        }
        case BODY, CHUNK_DATA -> {
          int skip = (int) Math.min(in.remaining(), remaining);
          keepBodyHead(in, skip);
          in.position(in.position() + skip);
          remaining -= skip;
          if (remaining > 0) {
            return Progress.MORE;
          }
          state = state == State.BODY ? State.DONE : State.CHUNK_END;
        }
        case BODY_UNTIL_EOF -> {
          keepBodyHead(in, in.remaining());
          in.position(in.limit());
          return Progress.MORE;
        }
        case DONE -> {
          return Progress.DONE;
        }
      }
    }
  }

  /** At EOF: true when the response was complete, because its body was delimited by the close. */
  boolean completeAtEof() {
    return state == State.BODY_UNTIL_EOF || state == State.DONE;
  }

  /** The status of the final response; 0 before its status line. */
  int status() {
    return status;
  }

  /** Whether the server keeps the connection open after this response. */
  boolean keepsConnection() {
    return state == State.DONE && !closeHeader && (!http10 || keepAliveHeader);
  }

  String error() {
    return error;
  }

  /**
   * The first bytes of the last response's body, as many as this parser keeps, as ISO-8859-1 text;
   * empty for a parser that keeps none.
   */
  String bodyHead() {
    return new String(bodyHead, 0, bodyHeadLength, StandardCharsets.ISO_8859_1);
  }

  /** Copies the next of {@code count} body bytes in {@code in} that the body head has room for. */
  private void keepBodyHead(ByteBuffer in, int count) {
    int kept = Math.min(count, bodyHead.length - bodyHeadLength);
    if (kept > 0) {
      in.get(in.position(), bodyHead, bodyHeadLength, kept);
      bodyHeadLength += kept;
    }
  }

  /** Appends to {@link #line} up to a LF; true when a whole line, without its CRLF, is there. */
  private boolean readLine(ByteBuffer in) {
    int position = in.position();
    int limit = in.limit();
    while (position < limit) {
      byte b = in.get(position++);
      if (b == '\n') {
        in.position(position);
        if (lineLength > 0 && line[lineLength - 1] == '\r') {
          lineLength--;
        }
        return true;
      }
      if (lineLength == MAX_LINE) {
        in.position(position);
        error = "a header line longer than " + MAX_LINE + " bytes";
        return false;
      }
      line[lineLength++] = b;
    }
    in.position(position);
    return false;
  }

  /** Acts on the line just read; false when it is malformed. */
  private boolean onLine() {
    switch (state) {
      case STATUS_LINE -> {
        return onStatusLine();
      }
      case HEADER_LINE -> {
        return lineLength == 0 ? onEndOfHeaders() : onHeader();
      }
      case CHUNK_SIZE -> {
        return onChunkSize();
      }
      case CHUNK_END -> {
        if (lineLength != 0) {
          return malformed("chunk data longer than its size");
        }
        state = State.CHUNK_SIZE;
        return true;
      }
      case TRAILER -> {
        if (lineLength == 0) {
          state = State.DONE;
        }
        return true;
      }
      default -> throw new IllegalStateException("no line expected in state " + state);
    }
  }

  // "HTTP/1.1 200 OK": the version and a three-digit status are all the bench reads.
  private boolean onStatusLine() {
    if (lineLength == 0) {
      return true; // RFC 9112 2.2: a client may skip empty lines before the status line
    }
    if (lineLength < 12
        || !startsWith("HTTP/1.")
        || !isDigit(line[7])
        || line[8] != ' '
        || !isDigit(line[9])
        || !isDigit(line[10])
        || !isDigit(line[11])
        || (lineLength > 12 && line[12] != ' ')) {
      return malformed("not an HTTP/1.x status line: '" + lineText() + "'");
    }
    http10 = line[7] == '0';
    status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    state = State.HEADER_LINE;
    return true;
  }

  private boolean onHeader() {
    int colon = 0;
    while (colon < lineLength && line[colon] != ':') {
      colon++;
    }
    if (colon == 0 || colon == lineLength) {
      return malformed("not a header line: '" + lineText() + "'");
    }
    int start = colon + 1;
    int end = lineLength;
    while (start < end && isSpace(line[start])) {
      start++;
    }
    while (end > start && isSpace(line[end - 1])) {
      end--;
    }
    if (nameIs(colon, CONTENT_LENGTH)) {
      long length = parseDecimal(start, end);
      if (length < 0 || (contentLength >= 0 && contentLength != length)) {
        return malformed("a bad or repeated Content-Length: '" + lineText() + "'");
      }
      contentLength = length;
    } else if (nameIs(colon, TRANSFER_ENCODING)) {
      // Chunked must be the last coding; any other framing is read until the server closes.
      chunked = endsWithIgnoringCase(start, end, CHUNKED);
      otherTransferEncoding = !chunked;
    } else if (nameIs(colon, CONNECTION)) {
      closeHeader |= hasToken(start, end, CLOSE);
      keepAliveHeader |= hasToken(start, end, KEEP_ALIVE);
    }
    return true;
  }

  // RFC 9112 6.3: how the body of a response to GET or POST is delimited.
  private boolean onEndOfHeaders() {
    if (status >= 100 && status < 200 && status != 101) {
      resetResponse(); // an interim response (100 Continue, 103 Early Hints): the final one follows
      return true;
    }
    if (status == 101) {
      return malformed("101 Switching Protocols, but the bench never asks to upgrade");
    }
    if (status == 204 || status == 304) {
      state = State.DONE;
    } else if (chunked) {
      state = State.CHUNK_SIZE;
    } else if (otherTransferEncoding || contentLength < 0) {
      state = State.BODY_UNTIL_EOF;
      closeHeader = true;
    } else {
      remaining = contentLength;
      state = remaining == 0 ? State.DONE : State.BODY;
    }
    return true;
  }

  private boolean onChunkSize() {
    long size = 0;
    int i = 0;
    for (; i < lineLength; i++) {
      int digit = Character.digit(line[i], 16);
      if (digit < 0) {
        break;
      }
      if (i == 15) {
        return malformed("a chunk size over 15 hex digits");
      }
      size = size * 16 + digit;
    }
    if (i == 0 || (i < lineLength && line[i] != ';' && !isSpace(line[i]))) {
      return malformed("not a chunk size: '" + lineText() + "'");
    }
    remaining = size;
    state = size == 0 ? State.TRAILER : State.CHUNK_DATA;
    return true;
  }

  private boolean malformed(String why) {
    error = why;
    return false;
  }

  private boolean startsWith(String prefix) {
    for (int i = 0; i < prefix.length(); i++) {
      if (line[i] != prefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  // Header names are ASCII letters and '-'; OR-ing 0x20 lowercases letters and keeps '-'.
  private boolean nameIs(int length, byte[] lowerName) {
    if (length != lowerName.length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if ((line[i] | 0x20) != lowerName[i]) {
        return false;
      }
    }
    return true;
  }

  private boolean endsWithIgnoringCase(int start, int end, byte[] lowerWord) {
    int from = end - lowerWord.length;
    if (from < start) {
      return false;
    }
    for (int i = 0; i < lowerWord.length; i++) {
      if ((line[from + i] | 0x20) != lowerWord[i]) {
        return false;
      }
    }
    return true;
  }

  /** Whether a comma-separated list has the token, ignoring case and spaces around items. */
  private boolean hasToken(int start, int end, byte[] lowerToken) {
    int item = start;
    while (item < end) {
      int itemEnd = item;
      while (itemEnd < end && line[itemEnd] != ',') {
        itemEnd++;
      }
      int from = item;
      int to = itemEnd;
      while (from < to && isSpace(line[from])) {
        from++;
      }
      while (to > from && isSpace(line[to - 1])) {
        to--;
      }
      if (to - from == lowerToken.length && endsWithIgnoringCase(from, to, lowerToken)) {
        return true;
      }
      item = itemEnd + 1;
    }
    return false;
  }

  private long parseDecimal(int start, int end) {
    if (start == end || end - start > 18) {
      return -1;
    }
    long value = 0;
    for (int i = start; i < end; i++) {
      if (!isDigit(line[i])) {
        return -1;
      }
      value = value * 10 + (line[i] - '0');
    }
    return value;
  }

  private String lineText() {
    int shown = Math.min(lineLength, 80);
    var text = new String(line, 0, shown, StandardCharsets.ISO_8859_1);
    return shown < lineLength ? text + "…" : text;
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t';
  }

  private static byte[] bytes(String lower) {
    return lower.getBytes(StandardCharsets.US_ASCII);
  }
}
