package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.Fd;
import dev.baton.os.ListenAddress;
import dev.baton.os.NativeException;
import dev.baton.os.Os;
import dev.baton.os.Steering;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The service's listening sockets. A shared listener is one open file that every generation gets,
 * so they share one accept queue: a connection that waits in it is accepted by whichever generation
 * calls accept() next, and none is ever reset by a handoff. A steered listener is a SO_REUSEPORT
 * group instead: the supervisor's socket anchors the address and carries the BPF program, and each
 * generation gets a socket of the group of its own, which the program sends every new connection to
 * while that generation is active. A listener stays bound for as long as the config names its
 * address; a deploy of a config that adds one binds it before the new generation starts, and one
 * the config dropped is closed once no live generation holds it.
 */
final class ListenerSet implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ListenerSet.class);

  /**
   * A bound listener; {@code address} has the port the kernel chose when the config said 0, and
   * {@code steering} is there when the listener is steered.
   */
  record Bound(Config.Listen config, Fd fd, String address, Optional<Steering> steering) {
    boolean steered() {
      return steering.isPresent();
    }

    /** "bpf" or "shared", as status says it. */
    String mode() {
      return steered() ? "bpf" : "shared";
    }
  }

  private final Os os;

  /** What a new generation is given, in config order. */
  private List<Bound> bound;

  /** Dropped from the config, open until no live generation holds them. */
  private final List<Bound> retired = new ArrayList<>();

  private final OwnSockets own;

  private ListenerSet(Os os, List<Bound> bound) {
    this.os = os;
    this.bound = List.copyOf(bound);
    this.own = new OwnSockets(os, () -> this.bound);
  }

  static ListenerSet bind(Os os, Config config) {
    var bound = new ArrayList<Bound>();
    try {
      for (var listen : config.listeners()) {
        bound.add(bindOne(os, config, listen));
      }
    } catch (RuntimeException e) {
      bound.forEach(b -> closeBound(os, b));
      throw e;
    }
    return new ListenerSet(os, bound);
  }

  private static void closeBound(Os os, Bound b) {
    b.steering().ifPresent(Steering::close);
    os.close(b.fd());
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
        if (kept.isPresent() && kept.get().config().steer() != listen.steer()) {
          throw new StartException(
              "listener '"
                  + listen.name()
                  + "' cannot change steer from \""
                  + kept.get().config().steer().name().toLowerCase(java.util.Locale.ROOT)
                  + "\" while the service runs; restart the service to change it");
        }
        if (kept.isPresent()) {
          var k = kept.get();
          next.add(new Bound(listen, k.fd(), k.address(), k.steering()));
        } else {
          var b = bindOne(os, config, listen);
          added.add(b);
          next.add(b);
        }
      }
    } catch (StartException e) {
      added.forEach(b -> closeBound(os, b));
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
          if (live.stream().anyMatch(g -> g.holds(b))) {
            return false;
          }
          closeBound(os, b);
          return true;
        });
  }

  /**
   * The listeners a restarted supervisor took back from a running generation, in config order. A
   * steered listener's anchor died with the supervisor that held it, so {@code fds} has a
   * generation's own socket for it instead: a new anchor is bound at its address, into the group
   * that the generations' own sockets kept alive. The group's program still steers with the map
   * whose id is in {@code steerings}, so that map is opened again and the steering never lapses;
   * only when it cannot be is a new program attached, and then, until {@link OwnSockets#steerTo}
   * names the active generation's socket again (which waits for the kernel to free the old map,
   * some tens of ms), the kernel spreads new connections over the group by its hash.
   */
  static ListenerSet adopt(Os os, Config config, List<Fd> fds, List<Integer> steerings) {
    var bound = new ArrayList<Bound>();
    int i = 0;
    try {
      for (; i < fds.size(); i++) {
        var listen = config.listeners().get(i);
        var fd = fds.get(i);
        if (listen.steer() == Config.Steer.BPF) {
          var at = new ListenAddress.Tcp(os.localAddress(fd), false);
          os.close(fd);
          bound.add(bindOne(os, config, listen, at, reopen(os, listen, steerings.get(i))));
          continue;
        }
        var address =
            listen.address() instanceof ListenAddress.Tcp
                ? new ListenAddress.Tcp(os.localAddress(fd), false).toString()
                : listen.address().toString();
        bound.add(new Bound(listen, fd, address, Optional.empty()));
      }
    } catch (RuntimeException e) {
      bound.forEach(b -> closeBound(os, b));
      fds.subList(i + 1, fds.size()).forEach(os::close);
      throw e;
    }
    return new ListenerSet(os, bound);
  }

  /** The generations' own sockets of the steered listeners. */
  OwnSockets own() {
    return own;
  }

  /** The steering a supervisor before this one left on a listener's group, when it can be had. */
  private static Optional<Steering> reopen(Os os, Config.Listen listen, int id) {
    if (id == 0) {
      return Optional.empty();
    }
    try {
      var steering = os.steering(id);
      if (steering.isEmpty()) {
        LOG.warn("listener '{}': its BPF map {} is gone; steering it anew", listen.name(), id);
      }
      return steering;
    } catch (NativeException e) {
      LOG.warn(
          "listener '{}': cannot open its BPF map {} again ({}); steering it anew, and until the"
              + " active generation is selected again the kernel spreads new connections by hash",
          listen.name(),
          id,
          e.getMessage());
      return Optional.empty();
    }
  }

  private static Bound bindOne(Os os, Config config, Config.Listen listen) {
    return bindOne(os, config, listen, listen.address(), Optional.empty());
  }

  /**
   * {@code listen}, bound at {@code address}: its own, or the one its group already has; steered by
   * {@code reopened} when a supervisor before this one left it, else by a new program.
   */
  private static Bound bindOne(
      Os os,
      Config config,
      Config.Listen listen,
      ListenAddress address,
      Optional<Steering> reopened) {
    boolean steer = listen.steer() == Config.Steer.BPF && steerable(os, listen);
    var at =
        steer && address instanceof ListenAddress.Tcp tcp
            ? new ListenAddress.Tcp(tcp.address(), true)
            : address;
    Fd fd;
    try {
      fd = bindFd(os, config, listen, at);
    } catch (RuntimeException e) {
      reopened.ifPresent(Steering::close);
      throw e;
    }
    var bound =
        listen.address() instanceof ListenAddress.Tcp
            ? new ListenAddress.Tcp(os.localAddress(fd), false).toString()
            : listen.address().toString();
    if (!steer) {
      reopened.ifPresent(Steering::close);
      return new Bound(listen, fd, bound, Optional.empty());
    }
    if (reopened.isPresent()) {
      return new Bound(listen, fd, bound, reopened);
    }
    try {
      var steering = os.steering();
      try {
        steering.attach(fd);
      } catch (RuntimeException e) {
        steering.close();
        throw e;
      }
      return new Bound(listen, fd, bound, Optional.of(steering));
    } catch (NativeException e) {
      os.close(fd);
      throw new StartException(
          "listener '"
              + listen.name()
              + "' cannot be steered with BPF: "
              + e.getMessage()
              + "; set steer = \"shared\" for it in "
              + config.file());
    }
  }

  /** Whether BPF steering works here; when it does not, the listener is shared, with a warning. */
  private static boolean steerable(Os os, Config.Listen listen) {
    var unavailable = os.steeringUnavailable();
    unavailable.ifPresent(
        why ->
            LOG.warn(
                "listener '{}' asks for steer = \"bpf\", but {}; it is shared instead",
                listen.name(),
                why));
    return unavailable.isEmpty();
  }

  private static Fd bindFd(Os os, Config config, Config.Listen listen, ListenAddress at) {
    try {
      return os.listen(at, listen.backlog());
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
      LOG.info(
          "listener '{}' {} {} ({}{})",
          b.config().name(),
          how,
          b.address(),
          b.fd(),
          b.steered() ? ", steered by BPF" : "");
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
    bound.forEach(b -> closeBound(os, b));
    retired.forEach(b -> closeBound(os, b));
    retired.clear();
  }
}
