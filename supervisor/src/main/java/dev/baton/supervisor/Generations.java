package dev.baton.supervisor;

import dev.baton.os.ExitStatus;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Every generation the supervisor knows, which one is active, which are parked, and the history of
 * promotions: the supervisor's state, read and written on its loop alone.
 */
final class Generations {
  /** Generations kept in status after they ended, promotions and history entries kept. */
  static final int HISTORY = 20;

  private final List<Generation> all = new ArrayList<>();
  private Optional<Generation> active = Optional.empty();

  /** Parked generations, oldest first. */
  private final ArrayDeque<Generation> parked = new ArrayDeque<>();

  /** Draining generations, in the order they began to drain. */
  private final ArrayDeque<Generation> draining = new ArrayDeque<>();

  /**
   * Generations that were active, oldest first: what a rollback with nothing parked goes back to.
   */
  private final ArrayDeque<Generation> promotions = new ArrayDeque<>();

  private final ArrayDeque<Status.HistoryEntry> history = new ArrayDeque<>();
  private int nextNumber = 1;

  int takeNumber() {
    return nextNumber++;
  }

  int nextNumber() {
    return nextNumber;
  }

  void continueNumbersFrom(int next) {
    nextNumber = next;
  }

  void add(Generation generation) {
    all.add(generation);
    while (all.size() > HISTORY) {
      var oldest = all.stream().filter(g -> !g.isLive()).findFirst();
      if (oldest.isEmpty()) {
        return;
      }
      all.remove(oldest.get());
    }
  }

  List<Generation> live() {
    return all.stream().filter(Generation::isLive).toList();
  }

  /** The live generation whose main process is {@code pid}: who may speak for a generation. */
  Optional<Generation> byNumber(int number) {
    return all.stream().filter(g -> g.number == number).findFirst();
  }

  Optional<Generation> byPid(int pid) {
    return all.stream().filter(g -> g.pid() == pid && g.isLive()).findFirst();
  }

  Optional<Generation> active() {
    return active;
  }

  boolean isActive(Generation generation) {
    return active.isPresent() && active.get() == generation;
  }

  /** Makes {@code generation} the active one, from ready or parked, and records why. */
  void promote(Generation generation, DeployKind kind, String reason, Instant now) {
    var previous = active;
    generation.moveTo(GenerationState.ACTIVE);
    generation.expiry.ifPresent(Loop.Timer::cancel);
    generation.expiry = Optional.empty();
    generation.promotedAt = Optional.of(now);
    active = Optional.of(generation);
    parked.remove(generation);
    promotions.remove(generation);
    promotions.addLast(generation);
    while (promotions.size() > HISTORY) {
      promotions.removeFirst();
    }
    remember(
        new Status.HistoryEntry(now, kind, generation.number, previous.map(g -> g.number), reason));
  }

  /** A promotion for the history: this process's, or an earlier one's from the deploy record. */
  void remember(Status.HistoryEntry entry) {
    history.addLast(entry);
    while (history.size() > HISTORY) {
      history.removeFirst();
    }
  }

  /** Recovered after a supervisor restart: active again without a new history entry. */
  void recoverActive(Generation generation) {
    active = Optional.of(generation);
    promotions.addLast(generation);
  }

  /** Parks {@code generation}; returns those now over {@code max}, oldest first, for draining. */
  List<Generation> park(Generation generation, int max) {
    if (generation.is(GenerationState.ACTIVE)) {
      generation.moveTo(GenerationState.PARKED);
    }
    if (isActive(generation)) {
      active = Optional.empty();
    }
    parked.addLast(generation);
    var evicted = new ArrayList<Generation>();
    while (parked.size() > max) {
      evicted.add(parked.removeFirst());
    }
    return evicted;
  }

  /** The generation promoted last, whether it still serves or has crashed since. */
  Optional<Generation> lastPromoted() {
    return Optional.ofNullable(promotions.peekLast());
  }

  Optional<Generation> newestParked() {
    return Optional.ofNullable(parked.peekLast());
  }

  List<Generation> parked() {
    return List.copyOf(parked);
  }

  /**
   * The generation promoted before the latest one: a rollback's target when nothing is parked,
   * whether the latest is still active or has crashed.
   */
  Optional<Generation> previous() {
    return promotions.reversed().stream().skip(1).findFirst();
  }

  /** Out of service: no longer active or parked (it drains, or it has exited). */
  void retire(Generation generation) {
    parked.remove(generation);
    if (isActive(generation)) {
      active = Optional.empty();
    }
    if (generation.is(GenerationState.DRAINING)) {
      if (!draining.contains(generation)) {
        draining.addLast(generation);
      }
    } else {
      draining.remove(generation);
    }
  }

  /** The generations draining, in the order they began to (recovered ones by number, first). */
  List<Generation> draining() {
    draining.removeIf(g -> !g.is(GenerationState.DRAINING));
    return List.copyOf(draining);
  }

  Status status(
      int supervisorPid,
      boolean deploying,
      @Nullable String crashLoop,
      List<Status.ListenerStatus> listeners) {
    var gens =
        all.stream()
            .map(
                g ->
                    new Status.GenerationStatus(
                        g.number,
                        g.state().label(),
                        g.pid(),
                        g.app.command(),
                        g.started,
                        g.readyAt,
                        g.promotedAt,
                        g.exitedAt,
                        g.notifyStatus.isEmpty()
                            ? g.readiness
                            : g.readiness + "; STATUS=" + g.notifyStatus,
                        g.exitStatus.map(ExitStatus::toString),
                        g.reason))
            .toList();
    return new Status(
        supervisorPid,
        active.map(g -> g.number),
        deploying,
        Optional.ofNullable(crashLoop),
        parked.stream().map(g -> g.number).toList(),
        gens,
        listeners,
        List.copyOf(history));
  }

  /** A crash after this long as the active generation starts the backoff over. */
  static boolean wasStable(Generation generation, Instant now) {
    return Duration.between(generation.promotedAt.orElse(generation.started), now)
            .compareTo(Duration.ofSeconds(10))
        >= 0;
  }
}
