package dev.baton.supervisor;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** What `baton status` shows: a snapshot, safe to serialize. */
public record Status(
    int supervisorPid,
    Optional<Integer> activeGeneration,
    boolean deploying,
    Optional<String> crashLoop,
    List<Integer> parked,
    List<GenerationStatus> generations,
    List<ListenerStatus> listeners,
    List<HistoryEntry> history) {

  /** One promotion: a deploy, a restart after a crash, or a rollback with its reason. */
  public record HistoryEntry(Instant at, String kind, int generation, Optional<Integer> replaced, String reason) {}

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
      String reason) {}

  public record ListenerStatus(String name, String address, String pass, int fd) {}
}
