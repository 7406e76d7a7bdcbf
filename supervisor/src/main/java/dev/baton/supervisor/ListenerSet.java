package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.Fd;
import dev.baton.os.ListenAddress;
import dev.baton.os.NativeException;
import dev.baton.os.Os;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The service's listening sockets, bound once when the supervisor starts and closed only when it
 * stops. Every generation gets these same open files, so they share one accept queue: a connection
 * that waits in it is accepted by whichever generation calls accept() next, and none is ever reset
 * by a handoff.
 */
final class ListenerSet implements AutoCloseable {
  /** A bound listener; {@code address} has the port the kernel chose when the config said 0. */
  record Bound(Config.Listen config, Fd fd, String address) {}

  private final Os os;
  private final List<Bound> bound;

  private ListenerSet(Os os, List<Bound> bound) {
    this.os = os;
    this.bound = List.copyOf(bound);
  }

  static ListenerSet bind(Os os, Config config) {
    var bound = new ArrayList<Bound>();
    try {
      for (var listen : config.listeners()) {
        var fd = bindOne(os, config, listen);
        var address =
            listen.address() instanceof ListenAddress.Tcp
                ? new ListenAddress.Tcp(os.localAddress(fd), false).toString()
                : listen.address().toString();
        bound.add(new Bound(listen, fd, address));
      }
    } catch (RuntimeException e) {
      bound.forEach(b -> os.close(b.fd()));
      throw e;
    }
    return new ListenerSet(os, bound);
  }

  /** The listeners a restarted supervisor took back from a running generation, in config order. */
  static ListenerSet adopt(Os os, Config config, List<Fd> fds) {
    var bound = new ArrayList<Bound>();
    for (int i = 0; i < fds.size(); i++) {
      var listen = config.listeners().get(i);
      var address =
          listen.address() instanceof ListenAddress.Tcp
              ? new ListenAddress.Tcp(os.localAddress(fds.get(i)), false).toString()
              : listen.address().toString();
      bound.add(new Bound(listen, fds.get(i), address));
    }
    return new ListenerSet(os, bound);
  }

  private static Fd bindOne(Os os, Config config, Config.Listen listen) {
    try {
      return os.listen(listen.address(), listen.backlog());
    } catch (NativeException e) {
      var what = "listener '" + listen.name() + "' cannot bind " + listen.address() + ": ";
      var change = "change [[listen]] address for '" + listen.name() + "' in " + config.file();
      throw new StartException(
          switch (e.errnoName()) {
            case "EADDRINUSE" -> {
              Optional<String> owner =
                  listen.address() instanceof ListenAddress.Tcp tcp
                      ? os.portOwner(tcp.address().getPort())
                      : Optional.empty();
              yield what
                  + "the address is in use"
                  + owner
                      .map(o -> " by " + o + "; stop it or ")
                      .orElse("; stop whatever holds it or ")
                  + change;
            }
            case "EACCES" ->
                what
                    + "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); "
                    + change;
            case "EADDRNOTAVAIL" -> what + "no such address on this host; " + change;
            default -> what + e.getMessage() + "; " + change;
          });
    }
  }

  List<Bound> all() {
    return bound;
  }

  @Override
  public void close() {
    bound.forEach(b -> os.close(b.fd()));
  }
}
