package dev.baton.sample;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The request line and the few headers the sample acts on, from one HTTP/1.x request head.
 *
 * @param contentLength the body's length, 0 when there is none; ignored when chunked
 * @param chunked the body comes in chunks ({@code Transfer-Encoding: chunked})
 * @param close the client asked to close ({@code Connection: close})
 * @param keepAlive an HTTP/1.0 client asked to keep the connection ({@code Connection: keep-alive})
 * @param expectContinue the client waits for {@code 100 Continue} before sending the body
 */
record RequestHead(
    String method,
    String target,
    boolean http10,
    long contentLength,
    boolean chunked,
    boolean close,
    boolean keepAlive,
    boolean expectContinue) {

  /** The largest head accepted; larger ones get 431. */
  static final int MAX_BYTES = 16 * 1024;

  /** A request the sample cannot serve; the connection closes after the error response. */
  static final class Malformed extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    Malformed(int status, String reason) {
      super(reason, null, false, false);
      this.status = status;
    }
  }

  /**
   * The index just past the blank line that ends the head starting at {@code from}, or -1 if the
   * head is not complete within {@code [from, to)}. Lines may end in CRLF or a bare LF.
   */
  static int end(byte[] bytes, int from, int to) {
    for (int i = from; i < to; i++) {
      if (bytes[i] != '\n') {
        continue;
      }
      if (i + 1 < to && bytes[i + 1] == '\n') {
        return i + 2;
      }
      if (i + 2 < to && bytes[i + 1] == '\r' && bytes[i + 2] == '\n') {
        return i + 3;
      }
    }
    return -1;
  }

  /** Parses the head in {@code [from, end)}, where end came from {@link #end}. */
  static RequestHead parse(byte[] bytes, int from, int end) throws Malformed {
    String[] lines =
        new String(bytes, from, end - from, StandardCharsets.ISO_8859_1).split("\r?\n");
    String[] requestLine = lines[0].split(" ", -1);
    if (requestLine.length != 3 || requestLine[0].isEmpty() || requestLine[1].isEmpty()) {
      throw new Malformed(400, "malformed request line");
    }
    String version = requestLine[2];
    if (!version.startsWith("HTTP/1.")) {
      throw new Malformed(505, "only HTTP/1.0 and HTTP/1.1 are served");
    }
    boolean http10 = version.equals("HTTP/1.0");
    long contentLength = -1;
    boolean chunked = false;
    boolean close = false;
    boolean keepAlive = false;
    boolean expectContinue = false;
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      int colon = line.indexOf(':');
      if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
        throw new Malformed(400, "malformed header line");
      }
      String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).strip().toLowerCase(Locale.ROOT);
      switch (name) {
        case "content-length" -> {
          long length = contentLength(value);
          // Differing lengths are how requests get smuggled past proxies; refuse them.
          if (contentLength >= 0 && contentLength != length) {
            throw new Malformed(400, "conflicting Content-Length headers");
          }
          contentLength = length;
        }
        case "transfer-encoding" -> {
          if (!value.equals("chunked")) {
            throw new Malformed(501, "only Transfer-Encoding: chunked is understood");
          }
          chunked = true;
        }
        case "connection" -> {
          for (String token : value.split(",")) {
            close |= token.strip().equals("close");
            keepAlive |= token.strip().equals("keep-alive");
          }
        }
        case "expect" -> expectContinue = value.equals("100-continue");
        default -> {
          // not acted on
        }
      }
    }
    // With both, chunked wins, and the connection must not be reused (RFC 9112, 6.3).
    if (chunked && contentLength >= 0) {
      close = true;
    }
    return new RequestHead(
        requestLine[0],
        requestLine[1],
        http10,
        Math.max(contentLength, 0),
        chunked,
        close,
        keepAlive,
        expectContinue);
  }

  private static long contentLength(String value) throws Malformed {
    if (value.isEmpty() || value.length() > 18 || !value.chars().allMatch(Character::isDigit)) {
      throw new Malformed(400, "malformed Content-Length");
    }
    return Long.parseLong(value);
  }

  /** The target without its query. */
  String path() {
    int query = target.indexOf('?');
    return query < 0 ? target : target.substring(0, query);
  }

  boolean hasBody() {
    return chunked || contentLength > 0;
  }

  /** Whether the client lets the connection stay open after the response. */
  boolean keepsConnection() {
    return http10 ? keepAlive && !close : !close;
  }
}
