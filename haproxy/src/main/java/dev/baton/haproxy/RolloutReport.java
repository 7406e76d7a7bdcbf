package dev.baton.haproxy;

import java.time.Duration;
import java.util.List;

/** A finished rollout: each server's steps, timed, in the order they ran. */
public record RolloutReport(String backend, List<HostReport> hosts, Duration elapsed) {

  /**
   * One server moved to a new generation.
   *
   * @param drain from {@code set server ... state drain} to no sessions and no queue
   * @param deploy the supervisor's deploy, the old generation's drain included
   * @param check from the deploy to HAProxy's own health check passing
   * @param total from drain to ready
   */
  public record HostReport(
      String server,
      int generation,
      Duration drain,
      Duration deploy,
      Duration check,
      Duration total) {}
}
