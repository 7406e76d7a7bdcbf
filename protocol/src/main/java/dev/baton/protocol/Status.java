package dev.baton.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** What {@code baton status} shows: a snapshot of one supervisor, safe to send and to keep. */
public record Status(
    int supervisorPid,
    Optional<Integer> activeGeneration,
    boolean deploying,
    Optional<String> crashLoop,
    List<Integer> parked,
    List<GenerationStatus> generations,
    List<ListenerStatus> listeners,
    List<HistoryEntry> history) {

  public Status {
    Objects.requireNonNull(activeGeneration, "activeGeneration");
    Objects.requireNonNull(crashLoop, "crashLoop");
    parked = List.copyOf(parked);
    generations = List.copyOf(generations);
    listeners = List.copyOf(listeners);
    history = List.copyOf(history);
  }

  /** One promotion: a start, a deploy, a restart after a crash, or a rollback with its reason. */
  public record HistoryEntry(
      Instant at, DeployKind kind, int generation, Optional<Integer> replaced, String reason) {}

  /**
   * One generation, live or recently gone.
   *
   * @param state its state in lower case: starting, ready, active, parked, draining, exited, failed
   * @param readiness what its readiness gate waits for, or what passed it
   * @param exit how it exited, once it has
   * @param reason why it is in this state, when that is not obvious (a failed readiness, a
   *     rollback)
   */
  public record GenerationStatus(
      int number,
      String state,
      int pid,
      List<String> command,
      Instant started,
      Optional<Instant> ready,
      Optional<Instant> promoted,
      Optional<Instant> exited,
      String readiness,
      Optional<String> exit,
      String reason) {

    public GenerationStatus {
      command = List.copyOf(command);
    }
  }

  /**
   * A socket the supervisor holds; {@code fd} is the supervisor's, {@code generations} the live
   * generations that were given it, and a {@code retired} one is no longer in the config and is
   * closed once none of them is left. {@code steer} is "shared" when every generation gets the
   * socket itself, and "bpf" when each gets one of its own and BPF picks the active one's.
   */
  public record ListenerStatus(
      String name,
      String address,
      String pass,
      int fd,
      List<Integer> generations,
      boolean retired,
      String steer) {
    public ListenerStatus {
      generations = List.copyOf(generations);
    }

    public ListenerStatus(
        String name,
        String address,
        String pass,
        int fd,
        List<Integer> generations,
        boolean retired) {
      this(name, address, pass, fd, generations, retired, "shared");
    }

    /** A listener no generation is known to hold, as a supervisor before 0.1 reported them. */
    public ListenerStatus(String name, String address, String pass, int fd) {
      this(name, address, pass, fd, List.of(), false);
    }
  }
}
