package dev.baton.os;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;

/**
 * Where a listener binds: a TCP address ("127.0.0.1:8080", "[::]:8080") or "unix:/run/app.sock".
 */
public sealed interface ListenAddress {

  record Tcp(InetSocketAddress address, boolean reusePort) implements ListenAddress {
    @Override
    public String toString() {
      var host = address.getAddress();
      var text =
          host instanceof java.net.Inet6Address
              ? "[" + host.getHostAddress() + "]"
              : host.getHostAddress();
      return text + ":" + address.getPort();
    }
  }

  record Unix(Path path) implements ListenAddress {
    @Override
    public String toString() {
      return "unix:" + path;
    }
  }

  /**
   * Parses the config's spelling of an address. Host names are not resolved: a listener binds to a
   * literal address, so the config means the same thing on every boot.
   *
   * @throws IllegalArgumentException with a message that shows the accepted forms
   */
  static ListenAddress parse(String text, boolean reusePort) {
    if (text.startsWith("unix:")) {
      var path = text.substring("unix:".length());
      if (path.isEmpty() || !path.startsWith("/")) {
        throw new IllegalArgumentException(
            "unix listener '" + text + "' needs an absolute path, e.g. unix:/run/app.sock");
      }
      return new Unix(Path.of(path));
    }
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException(
          "address '"
              + text
              + "' needs a host and a port: 127.0.0.1:8080, [::]:8080 or unix:/path");
    }
    var host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException(
          "IPv6 address '" + text + "' needs brackets, e.g. [::1]:8080");
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          "address '" + text + "' has no valid port; use a number from 0 to 65535");
    }
    if (!isLiteral(host)) {
      throw new IllegalArgumentException(
          "address '"
              + text
              + "' must use a literal IP (127.0.0.1, 0.0.0.0, [::1], [::]), not a host name");
    }
    try {
      return new Tcp(new InetSocketAddress(InetAddress.getByName(host), port), reusePort);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("address '" + text + "' is not a literal IP address", e);
    }
  }

  private static boolean isLiteral(String host) {
    return host.matches("[0-9.]+") || (host.contains(":") && host.matches("[0-9a-fA-F:.]+"));
  }
}
