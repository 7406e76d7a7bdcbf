package dev.baton.app;

import java.io.IOException;
import java.io.PrintStream;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The listeners this process accepts on: the entry point of baton-app.
 *
 * <pre>{@code
 * Listeners listeners = Listeners.adoptOr(new InetSocketAddress(8080));
 * for (Listener listener : listeners.all()) { ... listener.channel().accept() ... }
 * // on SIGTERM: stop accepting, finish what was accepted, exit
 * listeners.close();
 * }</pre>
 *
 * Two sources are adopted, both if both are there:
 *
 * <ul>
 *   <li>fd 0, when it is a listening socket (named {@code "stdin"});
 *   <li>{@code LISTEN_FDS=n} at fds 3..3+n-1 with names from {@code LISTEN_FDNAMES}, when {@code
 *       LISTEN_PID} is this process, as systemd's {@code sd_listen_fds} reads them.
 * </ul>
 *
 * Adopting fds 3 and up needs the JVM flag {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}
 * (the supervisor adds it through {@code JDK_JAVA_OPTIONS}); fd 0 works without it, through {@link
 * System#inheritedChannel()}.
 */
public final class Listeners implements AutoCloseable {

  /** The listener name for a socket at fd 0, which no variable names. */
  static final String STDIN = "stdin";

  /**
   * Large enough for a burst of new connections on a benchmark; the kernel caps it at somaxconn.
   */
  private static final int BACKLOG = 1024;

  /**
   * Whether inherited fds are owned by a channel already: a second owner would close them twice.
   * Guarded by the class lock.
   */
  private static boolean inheritedAdopted;

  private final List<Listener> all;

  private Listeners(List<Listener> all) {
    this.all = List.copyOf(all);
  }

  /**
   * Adopts the listeners handed to this process; none when it runs outside baton. Call it once: the
   * channels own the inherited fds.
   *
   * @throws IllegalStateException if the hand-over is malformed, or fds 3 and up are handed over
   *     and the JVM flag is missing; the message says which and what to do
   */
  public static Listeners adopt() throws IOException {
    return adopt(System.getenv(), ProcessHandle.current().pid(), System.err);
  }

  /**
   * Adopts the listeners handed to this process or, outside baton, binds {@code fallback} itself
   * and says so on stderr, so that the same app runs with and without baton.
   */
  public static Listeners adoptOr(SocketAddress fallback) throws IOException {
    return adoptOr(fallback, System.getenv(), ProcessHandle.current().pid(), System.err);
  }

  /**
   * As {@link #adoptOr(SocketAddress)}, setting {@code options} on the socket it binds itself, e.g.
   * {@code StandardSocketOptions.SO_REUSEPORT} to run beside older copies of the app on one port.
   * Adopted sockets are left as their owner made them.
   */
  @SafeVarargs
  public static Listeners adoptOr(SocketAddress fallback, SocketOption<Boolean>... options)
      throws IOException {
    return adoptOr(fallback, System.getenv(), ProcessHandle.current().pid(), System.err, options);
  }

  static Listeners adopt(Map<String, String> env, long pid, PrintStream log) throws IOException {
    return adopt(ListenFds.from(env, pid), log);
  }

  @SafeVarargs
  static Listeners adoptOr(
      SocketAddress fallback,
      Map<String, String> env,
      long pid,
      PrintStream log,
      SocketOption<Boolean>... options)
      throws IOException {
    ListenFds fds = ListenFds.from(env, pid);
    Listeners adopted = adopt(fds, log);
    if (!adopted.all.isEmpty()) {
      return adopted;
    }
    ServerSocketChannel channel = ServerSocketChannel.open(family(fallback));
    try {
      for (SocketOption<Boolean> option : options) {
        channel.setOption(option, true);
      }
      channel.bind(fallback, BACKLOG);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw new IOException(
          "baton-app: cannot bind "
              + Listener.format(fallback)
              + " ("
              + e
              + "); run under baton, or give the app a free address",
          e);
    }
    Listener listener =
        new Listener(ListenFds.UNKNOWN, channel, channel.getLocalAddress(), "bound here");
    String absence =
        fds.count() == 0 && fds.absence().equals("no LISTEN_FDS")
            ? "no LISTEN_FDS or inherited socket"
            : fds.absence() + ", and no inherited socket";
    log.println(
        "baton-app: " + absence + "; bound " + Listener.format(listener.address()) + " itself");
    log.flush();
    return new Listeners(List.of(listener));
  }

  private static synchronized Listeners adopt(ListenFds fds, PrintStream log) throws IOException {
    if (inheritedAdopted) {
      throw new IllegalStateException(
          "baton-app: the inherited listeners were adopted already; keep the first Listeners");
    }
    if (fds.count() > 0 && !NioInternals.available()) {
      throw new IllegalStateException(
          "baton-app: LISTEN_FDS="
              + fds.count()
              + " hands this process listeners at fds 3.."
              + (ListenFds.FIRST_FD + fds.count() - 1)
              + ", and adopting them needs the JVM flag "
              + NioInternals.flag()
              + "; add it to the java command line or to JDK_JAVA_OPTIONS");
    }
    List<Listener> all = new ArrayList<>();
    try {
      stdin(log).ifPresent(all::add);
      for (int i = 0; i < fds.count(); i++) {
        all.add(inherited(ListenFds.FIRST_FD + i, fds.names().get(i)));
      }
    } catch (IOException | RuntimeException e) {
      for (Listener listener : all) {
        listener.channel().close();
      }
      throw e;
    }
    inheritedAdopted = !all.isEmpty();
    return new Listeners(all);
  }

  /** The listener at fd 0, if fd 0 is a listening socket. */
  private static Optional<Listener> stdin(PrintStream log) throws IOException {
    if (NioInternals.available()) {
      Optional<ProtocolFamily> family = NioInternals.listeningFamily(0);
      if (family.isEmpty()) {
        return Optional.empty();
      }
      ServerSocketChannel channel = NioInternals.adopt(0, family.get());
      return Optional.of(new Listener(STDIN, channel, channel.getLocalAddress(), "fd 0"));
    }
    Channel inherited = System.inheritedChannel();
    if (!(inherited instanceof ServerSocketChannel)) {
      return Optional.empty();
    }
    // The JDK's inherited channel was made for inetd: closing it points fds 0, 1 and 2 at
    // /dev/null, so an app that closes it to drain loses its stdout and stderr from then on.
    log.println(
        "baton-app: adopted fd 0 through System.inheritedChannel(); closing it will send stdout and"
            + " stderr to /dev/null; the JVM flag "
            + NioInternals.flag()
            + " avoids that");
    log.flush();
    ServerSocketChannel channel = (ServerSocketChannel) inherited;
    return Optional.of(new Listener(STDIN, channel, channel.getLocalAddress(), "fd 0"));
  }

  private static Listener inherited(int fd, String name) throws IOException {
    ProtocolFamily family =
        NioInternals.listeningFamily(fd)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "baton-app: fd "
                            + fd
                            + " (LISTEN_FDNAMES name '"
                            + name
                            + "') is not a listening stream socket; whatever set LISTEN_FDS must"
                            + " pass the sockets at fds 3 and up"));
    ServerSocketChannel channel = NioInternals.adopt(fd, family);
    return new Listener(name, channel, channel.getLocalAddress(), "fd " + fd);
  }

  private static ProtocolFamily family(SocketAddress address) {
    if (address instanceof UnixDomainSocketAddress) {
      return StandardProtocolFamily.UNIX;
    }
    if (address instanceof InetSocketAddress
        && ((InetSocketAddress) address).getAddress() instanceof Inet6Address) {
      return StandardProtocolFamily.INET6;
    }
    return StandardProtocolFamily.INET;
  }

  /** Every listener, in fd order: fd 0 first, then fds 3 and up. */
  public List<Listener> all() {
    return all;
  }

  /** The listener with this name, if there is one. */
  public Optional<Listener> named(String name) {
    return all.stream().filter(l -> l.name().equals(name)).findFirst();
  }

  /**
   * Stops this process accepting on every listener by closing its channels. The sockets stay open
   * in the supervisor, and connections not yet accepted wait in their queues for the next
   * generation.
   */
  @Override
  public void close() throws IOException {
    IOException failure = null;
    for (Listener listener : all) {
      try {
        listener.channel().close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public String toString() {
    return all.toString();
  }
}
