package dev.baton.supervisor;

import dev.baton.os.Fd;
import dev.baton.os.ListenAddress;
import dev.baton.os.NativeException;
import dev.baton.os.Os;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The sockets each generation has of its own in a steered listener's SO_REUSEPORT group: made at
 * its spawn, named to the group's BPF program at its promotion, and held by the supervisor too, so
 * that they stay in the group (and what waits in their queues with them) until the generation has
 * exited and nothing is steered to them any more.
 */
final class OwnSockets {
  private final Os os;
  private final Supplier<List<ListenerSet.Bound>> listeners;

  /** Generations that exited while connections were steered to them, until the next promotion. */
  private final List<Generation> steeredToExited = new ArrayList<>();

  OwnSockets(Os os, Supplier<List<ListenerSet.Bound>> listeners) {
    this.os = os;
    this.listeners = listeners;
  }

  /**
   * A socket of {@code b}'s group for one generation alone: the same address and port, with
   * SO_REUSEPORT, and the same backlog.
   *
   * @throws DeployException when it cannot be bound
   */
  Fd make(ListenerSet.Bound b, int generation) {
    try {
      return os.listen(new ListenAddress.Tcp(os.localAddress(b.fd()), true), b.config().backlog());
    } catch (NativeException e) {
      throw new DeployException(
          "generation "
              + generation
              + " could not start: its own socket for listener '"
              + b.config().name()
              + "' cannot be bound ("
              + e.getMessage()
              + ")");
    }
  }

  /**
   * Sends every new connection to a steered listener to {@code generation}'s own socket: one BPF
   * map update each. Sockets of generations that exited while they had the connections are closed
   * now; the kernel moves what waits in their queues to the socket just selected.
   */
  void steerTo(Generation generation) {
    for (var b : listeners.get()) {
      var own = generation.own.get(b.config().name());
      if (b.steered() && own != null) {
        b.steering().get().select(own);
      }
    }
    steeredToExited.remove(generation);
    steeredToExited.forEach(this::closeOwn);
    steeredToExited.clear();
  }

  /**
   * A generation has exited: its own sockets are closed, unless new connections are still steered
   * to them (it was active), since then they wait there for the next promotion to move them.
   */
  void exited(Generation generation, boolean wasActive) {
    if (wasActive && !generation.own.isEmpty()) {
      steeredToExited.add(generation);
    } else {
      closeOwn(generation);
    }
  }

  private void closeOwn(Generation generation) {
    generation.own.values().forEach(os::close);
    generation.own = Map.of();
  }

  /** The connections waiting in {@code generation}'s own sockets' accept queues. */
  int queued(Generation generation) {
    int queued = 0;
    for (var fd : generation.own.values()) {
      queued += os.acceptQueue(fd).map(Os.AcceptQueue::length).orElse(0);
    }
    return queued;
  }
}
