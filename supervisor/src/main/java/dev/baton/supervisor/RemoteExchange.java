package dev.baton.supervisor;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One request on one connection of {@link RemoteHttp}: its head read into a buffer of fixed size,
 * its body read only when the handler asks, its answer written with a deadline per write.
 */
final class RemoteExchange implements RemoteHttp.Exchange {
  private static final byte[] CRLF = {'\r', '\n'};

  private final RemoteHttp.Connection connection;
  private final RemoteHttp.Limits limits;
  private String method = "";
  private String path = "";
  private final Map<String, String> headers = new HashMap<>();
  // Set by readHead(), which the connection calls first.
  private InputStream in = InputStream.nullInputStream();
  private OutputStream out = OutputStream.nullOutputStream();
  private boolean answered;

  RemoteExchange(RemoteHttp.Connection connection, RemoteHttp.Limits limits) {
    this.connection = connection;
    this.limits = limits;
  }

  /**
   * Reads the request line and headers; on a malformed or oversized head answers it and returns
   * false. Reads byte by byte from a buffered stream, so the head never costs more than {@code
   * headerBytes} of memory whatever the client sends.
   */
  boolean readHead() throws IOException {
    var socket = connection.stream();
    in = new BufferedInputStream(socket.getInputStream(), 2048);
    out = socket.getOutputStream();
    var head = new byte[limits.headerBytes()];
    int length = 0;
    int lines = 0;
    int lineStart = 0;
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new RemoteHttp.Refused("closed before the end of the request head");
      }
      if (length == head.length) {
        return refuse(431, "request line and headers over " + limits.headerBytes() + " bytes");
      }
      head[length++] = (byte) b;
      if (b != '\n') {
        continue;
      }
      int end = length - 1 > lineStart && head[length - 2] == '\r' ? length - 2 : length - 1;
      if (end == lineStart) {
        break;
      }
      if (++lines > limits.headerLines()) {
        return refuse(431, "more than " + limits.headerLines() + " request header lines");
      }
      var line = new String(head, lineStart, end - lineStart, StandardCharsets.ISO_8859_1);
      lineStart = length;
      if (lines == 1) {
        var parts = line.split(" ", -1);
        if (parts.length != 3
            || !parts[0].matches("[A-Z]{1,16}")
            || !parts[1].startsWith("/")
            || !parts[2].matches("HTTP/1\\.[01]")) {
          return refuse(400, "not an HTTP/1.1 request line");
        }
        method = parts[0];
        int query = parts[1].indexOf('?');
        path = query < 0 ? parts[1] : parts[1].substring(0, query);
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0 || !line.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        // Also a folded line (leading space): obsolete, and a way to smuggle one header into
        // another.
        return refuse(400, "malformed header line");
      }
      var name = line.substring(0, colon).toLowerCase(Locale.ROOT);
      var value = line.substring(colon + 1).strip();
      var before = headers.putIfAbsent(name, value);
      if (before != null
          && !before.equals(value)
          && (name.equals("content-length")
              || name.equals("authorization")
              || name.equals("transfer-encoding")
              || name.equals("host"))) {
        return refuse(400, "two different " + name + " headers");
      }
    }
    if (lines == 0) {
      return refuse(400, "empty request");
    }
    return true;
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
  }

  @Override
  public InetSocketAddress remote() {
    return (InetSocketAddress) connection.socket.getRemoteSocketAddress();
  }

  @Override
  public byte[] body() throws IOException {
    if (headers.containsKey("transfer-encoding")) {
      refuse(501, "a chunked request body is not supported; send Content-Length");
      throw new RemoteHttp.Refused("chunked body");
    }
    var text = headers.get("content-length");
    if (text == null) {
      connection.idle();
      return new byte[0];
    }
    long length;
    try {
      length = text.matches("\\d{1,12}") ? Long.parseLong(text) : -1;
    } catch (NumberFormatException e) {
      length = -1;
    }
    if (length < 0) {
      refuse(400, "Content-Length is not a number");
      throw new RemoteHttp.Refused("bad Content-Length");
    }
    if (length > limits.bodyBytes()) {
      refuse(413, "request body over " + limits.bodyBytes() + " bytes");
      throw new RemoteHttp.Refused("body too large");
    }
    var body = in.readNBytes((int) length);
    if (body.length < length) {
      throw new RemoteHttp.Refused("closed before the end of the body");
    }
    // The request is read: what the handler does now (a stop's drain) is not the client's time.
    connection.idle();
    return body;
  }

  @Override
  public void send(int code, Map<String, String> extra, byte[] body) throws IOException {
    var head = new StringBuilder(status(code));
    extra.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    head.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
    // HEAD gets the head a GET would, its Content-Length too, and no body (RFC 9110, 9.3.2): a
    // client reading a reused connection would take the body for its next answer.
    write(
        head.toString().getBytes(StandardCharsets.ISO_8859_1),
        method.equals("HEAD") ? new byte[0] : body);
  }

  @Override
  public OutputStream stream(int code, String contentType) throws IOException {
    write(
        (status(code)
                + "Content-Type: "
                + contentType
                + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (len > 0) {
          RemoteExchange.this.write(
              (Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.ISO_8859_1),
              java.util.Arrays.copyOfRange(b, off, off + len),
              CRLF);
        }
      }

      @Override
      public void close() throws IOException {
        RemoteExchange.this.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      }
    };
  }

  /**
   * Ends the exchange: a handler that answered nothing has a bug, which the client hears as a 500.
   */
  void finish() throws IOException {
    if (!answered) {
      throw new IllegalStateException("the handler sent no answer to " + method + " " + path);
    }
  }

  private String status(int code) {
    if (answered) {
      throw new IllegalStateException("two answers to " + method + " " + path);
    }
    answered = true;
    return "HTTP/1.1 " + code + " " + RemoteHttp.reason(code) + "\r\n";
  }

  /** One write under its own deadline; between writes the connection waits without one. */
  private void write(byte[]... parts) throws IOException {
    connection.writing();
    for (var part : parts) {
      out.write(part);
    }
    out.flush();
    connection.idle();
  }

  /** Answers a request the server will not take, in the control protocol's shape, and ends it. */
  private boolean refuse(int code, String why) throws IOException {
    var json = dev.baton.protocol.Codec.encode(new dev.baton.protocol.Reply.Failed(why)) + "\n";
    send(code, RemoteHttp.json(), json.getBytes(StandardCharsets.UTF_8));
    return false;
  }
}
