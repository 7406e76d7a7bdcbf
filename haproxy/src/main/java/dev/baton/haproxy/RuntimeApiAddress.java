package dev.baton.haproxy;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/** Where the Runtime API listens: a Unix socket or a TCP address, as given on the command line. */
record RuntimeApiAddress(String text, SocketAddress address) {

  static RuntimeApiAddress parse(String text) {
    if (text.contains("/")) {
      return new RuntimeApiAddress(text, UnixDomainSocketAddress.of(Path.of(text)));
    }
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException(
          "'"
              + text
              + "' is not a Runtime API address; give the stats socket's path"
              + " (/run/haproxy/admin.sock) or host:port (127.0.0.1:9999)");
    }
    var host = text.substring(0, colon).replaceAll("^\\[|\\]$", "");
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "': the port must be a number, as in 127.0.0.1:9999");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("'" + text + "': the port must be from 1 to 65535");
    }
    return new RuntimeApiAddress(text, new InetSocketAddress(host, port));
  }

  StandardProtocolFamily family() {
    return address instanceof UnixDomainSocketAddress
        ? StandardProtocolFamily.UNIX
        : ((InetSocketAddress) address).getAddress() instanceof java.net.Inet6Address
            ? StandardProtocolFamily.INET6
            : StandardProtocolFamily.INET;
  }

  @Override
  public String toString() {
    return text;
  }
}
