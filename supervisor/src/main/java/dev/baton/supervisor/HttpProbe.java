package dev.baton.supervisor;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One HTTP/1.1 GET against a generation's private probe listener. Only that generation holds the
 * listener, so the answer comes from it and no other: a shared listener could be answered by the
 * old generation and let a broken new one through.
 */
final class HttpProbe {
  private HttpProbe() {}

  /** How the supervisor probes; unit tests answer in its place. */
  @FunctionalInterface
  interface Get {
    /** The status code, or -1 when there was no well-formed answer in time. */
    int get(InetSocketAddress address, String path, Duration timeout);
  }

  /** The status code, or -1 when there was no well-formed answer in time. */
  static int get(InetSocketAddress address, String path, Duration timeout) {
    int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    try (var socket = new Socket()) {
      socket.connect(address, millis);
      socket.setSoTimeout(millis);
      var request =
          "GET "
              + path
              + " HTTP/1.1\r\nHost: "
              + address.getHostString()
              + ":"
              + address.getPort()
              + "\r\nUser-Agent: baton-probe\r\nConnection: close\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      return statusCode(socket.getInputStream());
    } catch (IOException e) {
      return -1;
    }
  }

  private static int statusCode(InputStream in) throws IOException {
    var line = new StringBuilder();
    for (int c = in.read(); c != -1 && c != '\n' && line.length() < 256; c = in.read()) {
      line.append((char) c);
    }
    var parts = line.toString().split(" ");
    if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
      return -1;
    }
    try {
      return Integer.parseInt(parts[1].trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
