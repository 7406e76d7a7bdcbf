package dev.baton.bench;

import java.util.List;
import java.util.Optional;

/**
 * Everything one scenario measured: a measurement per load mode, the cross-checks by other tools,
 * and what the supervisor cost, when there is one.
 *
 * @param error why the scenario could not run to its end, when it could not
 * @param log the scenario's log: the app's and the supervisor's output
 */
record ScenarioResult(
    Scenario scenario,
    List<Measurement> measurements,
    List<CrossCheckRun> crossChecks,
    Optional<SupervisorCost> supervisor,
    Optional<String> error,
    String log) {

  /** A cross-check and the reloads that happened while it ran. */
  record CrossCheckRun(CrossCheck check, int reloads) {}

  /**
   * @param idleCpuPercent CPU use over a few seconds with no load and no deploys, in percent of one
   *     core
   * @param cpuSeconds CPU time over the scenario's loads and deploys
   * @param cpuMsPerDeploy that, per deploy
   * @param peakRssBytes the supervisor's resident-set high-water mark (VmHWM)
   */
  record SupervisorCost(
      double idleCpuPercent, double cpuSeconds, double cpuMsPerDeploy, long peakRssBytes) {}

  long failed() {
    return measurements.stream().mapToLong(Measurement::failed).sum();
  }

  List<Reload> reloads() {
    return measurements.stream().flatMap(m -> m.reloads().stream()).toList();
  }
}
