package dev.baton.app.test;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One HTTP/1.1 connection, kept open between requests; answers read by Content-Length or chunks.
 */
public final class KeptAlive implements AutoCloseable {
  private final Socket socket = new Socket();
  private final InputStream in;

  public KeptAlive(InetSocketAddress address) throws IOException {
    socket.connect(address, 2000);
    socket.setSoTimeout(5000);
    in = new BufferedInputStream(socket.getInputStream());
  }

  /** Sends {@code GET /} and reads the whole answer; returns its head. */
  public String get() throws IOException {
    socket
        .getOutputStream()
        .write("GET / HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    var head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed after " + head);
      }
      head.append((char) c);
    }
    var text = head.toString().toLowerCase(Locale.ROOT);
    if (text.contains("transfer-encoding: chunked")) {
      for (int size = chunkSize(); size > 0; size = chunkSize()) {
        in.readNBytes(size + 2);
      }
      in.readNBytes(2);
    } else {
      var m = Pattern.compile("content-length: (\\d+)").matcher(text);
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
  public boolean closedWithin(Duration time) throws IOException {
    socket.setSoTimeout((int) time.toMillis());
    try {
      return in.read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true; // reset
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
