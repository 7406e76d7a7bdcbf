package dev.baton.app;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;

/**
 * One listening socket this process accepts on: handed over by the supervisor, or bound here when
 * the process runs outside baton.
 *
 * <p>The socket is shared with the supervisor and with other generations through the same open
 * file. Closing the {@link #channel()} closes this process's fd only: this process stops accepting
 * and the socket, with its accept queue, lives on. Accepting in blocking mode on a platform thread
 * leaves the socket's flags alone; non-blocking mode, or a blocking accept on a virtual thread,
 * sets O_NONBLOCK on the shared open file, which a generation in another language may not expect.
 */
public final class Listener {

  /**
   * The name of the supervisor's private probe listener in {@code LISTEN_FDNAMES}: only this
   * generation holds it, so the supervisor's health probe and warm-up reach this generation and no
   * other.
   */
  static final String PROBE = "baton-probe";

  private final String name;
  private final ServerSocketChannel channel;
  private final SocketAddress address;
  private final String origin;

  Listener(String name, ServerSocketChannel channel, SocketAddress address, String origin) {
    this.name = name;
    this.channel = channel;
    this.address = address;
    this.origin = origin;
  }

  /** The listener's name from {@code LISTEN_FDNAMES}, {@code "unknown"} when not named. */
  public String name() {
    return name;
  }

  /**
   * Whether this is the supervisor's private probe listener ({@code baton-probe}). It must accept
   * even while the app is paused: the supervisor probes a new generation's health, and warms it up,
   * on it before it takes public traffic, and keeps probing it after promotion.
   */
  public boolean probe() {
    return name.equals(PROBE);
  }

  /** The channel to accept on, in blocking mode; closing it stops this process accepting. */
  public ServerSocketChannel channel() {
    return channel;
  }

  /** The address the socket listens on, as it was when adopted. */
  public SocketAddress address() {
    return address;
  }

  /** Where the socket came from: {@code fd 3}, {@code fd 0}, or {@code bound here}. */
  public String origin() {
    return origin;
  }

  /** Like {@code http=127.0.0.1:8080 (fd 3)}. */
  @Override
  public String toString() {
    return name + "=" + format(address) + " (" + origin + ")";
  }

  /** {@code 127.0.0.1:8080}, {@code [::1]:8080} or a Unix socket's path, without host names. */
  static String format(SocketAddress address) {
    if (address instanceof InetSocketAddress) {
      InetSocketAddress inet = (InetSocketAddress) address;
      String host =
          inet.getAddress() == null ? inet.getHostString() : inet.getAddress().getHostAddress();
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    if (address instanceof UnixDomainSocketAddress) {
      return ((UnixDomainSocketAddress) address).getPath().toString();
    }
    return String.valueOf(address);
  }
}
