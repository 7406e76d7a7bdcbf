package dev.baton.app.jetty;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * One HTTP/1.1 connection, kept open between requests; answers read by Content-Length or chunks.
 */
final class KeptAlive implements AutoCloseable {
  private final java.net.Socket socket = new java.net.Socket();
  private final java.io.InputStream in;

  KeptAlive(InetSocketAddress address) throws IOException {
    socket.connect(address, 2000);
    socket.setSoTimeout(5000);
    in = new java.io.BufferedInputStream(socket.getInputStream());
  }

  String get() throws IOException {
    socket
        .getOutputStream()
        .write(
            "GET / HTTP/1.1\r\nHost: test\r\n\r\n"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    var head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed after " + head);
      }
      head.append((char) c);
    }
    var text = head.toString().toLowerCase(java.util.Locale.ROOT);
    if (text.contains("transfer-encoding: chunked")) {
      for (int size = chunkSize(); size > 0; size = chunkSize()) {
        in.readNBytes(size + 2);
      }
      in.readNBytes(2);
    } else {
      var m = java.util.regex.Pattern.compile("content-length: (\\d+)").matcher(text);
      in.readNBytes(m.find() ? Integer.parseInt(m.group(1)) : 0);
    }
    return head.toString();
  }

  private int chunkSize() throws IOException {
    var line = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("closed in a chunk");
      }
      line.append((char) c);
    }
    return Integer.parseInt(line.toString().trim(), 16);
  }

  /** Whether the server closes the connection within {@code time}, sending nothing more. */
  boolean closedWithin(Duration time) throws IOException {
    socket.setSoTimeout((int) time.toMillis());
    try {
      return in.read() == -1;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (java.net.SocketException e) {
      return true; // reset
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
