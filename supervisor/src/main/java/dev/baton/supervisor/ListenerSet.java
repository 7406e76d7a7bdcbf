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
 * The service's listening sockets. Every generation gets these same open files, so they share one
 * accept queue: a connection that waits in it is accepted by whichever generation calls accept()
 * next, and none is ever reset by a handoff. A listener stays bound for as long as the config names
 * its address; a deploy of a config that adds one binds it before the new generation starts, and
 * one the config dropped is closed once no live generation holds it.
 */
final class ListenerSet implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ListenerSet.class);

  /** A bound listener; {@code address} has the port the kernel chose when the config said 0. */
  record Bound(Config.Listen config, Fd fd, String address) {}

  private final Os os;

  /** What a new generation is given, in config order. */
  private List<Bound> bound;

  /** Dropped from the config, open until no live generation holds them. */
  private final List<Bound> retired = new ArrayList<>();

  private ListenerSet(Os os, List<Bound> bound) {
    this.os = os;
    this.bound = List.copyOf(bound);
  }

  static ListenerSet bind(Os os, Config config) {
    var bound = new ArrayList<Bound>();
    try {
      for (var listen : config.listeners()) {
        bound.add(bindOne(os, config, listen));
      }
    } catch (RuntimeException e) {
      bound.forEach(b -> os.close(b.fd()));
      throw e;
    }
    return new ListenerSet(os, bound);
  }

  /**
   * Takes {@code config}'s [[listen]] tables: an address already bound keeps its socket (its name,
   * pass and backlog as the config now says; the backlog itself changes at the next start), a new
   * one is bound, and one no longer named is retired.
   *
   * @throws DeployException when an address cannot be bound, naming it and who holds it; then
   *     nothing changed
   */
  void apply(Config config) {
    var next = new ArrayList<Bound>();
    var added = new ArrayList<Bound>();
    try {
      for (var listen : config.listeners()) {
        var kept = kept(listen);
        if (kept.isPresent()) {
          next.add(new Bound(listen, kept.get().fd(), kept.get().address()));
        } else {
          var b = bindOne(os, config, listen);
          added.add(b);
          next.add(b);
        }
      }
    } catch (StartException e) {
      added.forEach(b -> os.close(b.fd()));
      throw new DeployException(e.getMessage() + "; the deploy was refused and nothing changed");
    }
    for (var b : bound) {
      if (next.stream().noneMatch(n -> n.fd().equals(b.fd()))) {
        retired.add(b);
      }
    }
    bound = List.copyOf(next);
  }

  /**
   * The socket {@code listen} goes on with: the one of the same name and address, or, for an
   * address that names its port (or a path), the one bound to it under another name. Two tables
   * that both ask the kernel for a port (":0") are two sockets.
   */
  private Optional<Bound> kept(Config.Listen listen) {
    var same =
        bound.stream()
            .filter(b -> b.config().name().equals(listen.name()))
            .filter(b -> b.config().address().equals(listen.address()))
            .findFirst();
    boolean anyPort =
        listen.address() instanceof ListenAddress.Tcp tcp && tcp.address().getPort() == 0;
    return same.or(
        () ->
            anyPort
                ? Optional.empty()
                : bound.stream()
                    .filter(b -> b.config().address().equals(listen.address()))
                    .findFirst());
  }

  /** Closes each retired listener that none of {@code live} holds any more. */
  void closeUnheld(List<Generation> live) {
    retired.removeIf(
        b -> {
          if (live.stream().anyMatch(g -> g.holds(b.fd()))) {
            return false;
          }
          os.close(b.fd());
          return true;
        });
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

  private static Bound bindOne(Os os, Config config, Config.Listen listen) {
    var fd = bindFd(os, config, listen);
    var address =
        listen.address() instanceof ListenAddress.Tcp
            ? new ListenAddress.Tcp(os.localAddress(fd), false).toString()
            : listen.address().toString();
    return new Bound(listen, fd, address);
  }

  private static Fd bindFd(Os os, Config config, Config.Listen listen) {
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

  /** One log line per listener: "listener 'http' bound to 127.0.0.1:8080 (fd 5)". */
  void log(String how) {
    for (var b : bound) {
      LOG.info("listener '{}' {} {} ({})", b.config().name(), how, b.address(), b.fd());
    }
  }

  List<Bound> all() {
    return bound;
  }

  List<Bound> retired() {
    return List.copyOf(retired);
  }

  @Override
  public void close() {
    bound.forEach(b -> os.close(b.fd()));
    retired.forEach(b -> os.close(b.fd()));
    retired.clear();
  }
}
