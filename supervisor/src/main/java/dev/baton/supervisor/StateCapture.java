package dev.baton.supervisor;

import dev.baton.os.Os;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The {@link StateJournal.State} of a running supervisor, as the journal writes it down at every
 * change of state. Apart from the journal's file because it holds what must outlive one state: what
 * /proc said once of the listeners and of each generation, and the park deadlines a restart keeps.
 */
final class StateCapture {
  /** Per generation, what /proc said of it when it was first written down. */
  private record Lineage(int session, boolean child) {}

  private final Os os;

  /**
   * The listeners as the journal names them; they never change once bound, so /proc is read once.
   */
  private @Nullable List<StateJournal.ListenerEntry> listeners;

  private String bootId = "";

  /** When each parked generation is due to be drained at {@code [park] ttl}: a restart keeps it. */
  private final Map<Integer, Instant> parkedUntil = new HashMap<>();

  private final Map<Integer, Lineage> lineage = new HashMap<>();

  StateCapture(Os os) {
    this.os = os;
  }

  /** A recovered generation's park deadline, from the journal it was recovered from. */
  void parkedUntil(int generation, Instant until) {
    parkedUntil.put(generation, until);
  }

  /**
   * What {@code supervisor} runs now; {@code carried}: per generation, what its output readers hold
   * of an unfinished line (an upgrade's).
   */
  StateJournal.State of(
      Supervisor supervisor, ListenerSet bound, Map<Integer, List<String>> carried) {
    if (listeners == null) {
      listeners =
          bound.all().stream()
              .map(
                  b ->
                      new StateJournal.ListenerEntry(
                          b.config().name(), b.config().address().toString(), os.link(b.fd())))
              .toList();
      bootId = os.bootId();
    }
    var now = supervisor.loop().now();
    var config = supervisor.config();
    var live = supervisor.generations().live();
    // A deadline is noted in the turn that parked the generation, when Retire set its timer.
    parkedUntil
        .keySet()
        .retainAll(
            live.stream().filter(g -> g.is(GenerationState.PARKED)).map(g -> g.number).toList());
    live.stream()
        .filter(g -> g.is(GenerationState.PARKED))
        .forEach(g -> parkedUntil.putIfAbsent(g.number, now.plus(config.park().ttl())));
    int pid = os.pid();
    lineage.keySet().retainAll(live.stream().map(g -> g.number).toList());
    var entries =
        live.stream()
            .map(
                g ->
                    new StateJournal.GenerationEntry(
                        g.number,
                        g.pid(),
                        g.startTime,
                        lineageOf(g, pid).session(),
                        lineageOf(g, pid).child(),
                        g.state().label(),
                        g.app.command(),
                        g.app.env(),
                        g.app.workdir().toString(),
                        g.process.outputPipes(),
                        carried.getOrDefault(g.number, List.of()),
                        g.probeAddress.map(
                            a -> a.getAddress().getHostAddress() + ":" + a.getPort()),
                        g.started,
                        g.promotedAt,
                        Optional.ofNullable(parkedUntil.get(g.number)),
                        // Bake.start runs in the promotion's turn, so its end is the promotion plus
                        // its duration.
                        g.baking
                            ? g.promotedAt.flatMap(
                                p -> config.bake().map(b -> p.plus(b.duration())))
                            : Optional.<Instant>empty(),
                        sockets(g),
                        g.paused))
            .toList();
    return new StateJournal.State(
        bootId,
        os.uid(),
        pid,
        os.startTime(pid).orElse(0),
        supervisor.generations().nextNumber(),
        listeners,
        entries);
  }

  /** Its own sockets of steered listeners, by listener name, as /proc names them. */
  private Map<String, String> sockets(Generation g) {
    var sockets = new java.util.TreeMap<String, String>();
    g.own.forEach((name, fd) -> sockets.put(name, os.link(fd)));
    return sockets;
  }

  /** Read from /proc once per generation: its session and parent do not change while it lives. */
  private Lineage lineageOf(Generation g, int supervisorPid) {
    return lineage.computeIfAbsent(
        g.number,
        n ->
            os.processStat(g.pid())
                .map(p -> new Lineage(p.session(), p.parent() == supervisorPid))
                .orElse(new Lineage(0, false)));
  }
}
