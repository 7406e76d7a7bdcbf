package dev.baton.bench;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One load of one scenario: what came back, how fast, and how often the app was replaced meanwhile.
 * Only numbers are kept; the load's timeline, which can be large, has gone into its plot.
 *
 * @param reloadSeconds when traffic moved to a new generation, in seconds into the load
 * @param failedReloads replacements that did not happen (the old generation kept serving)
 */
record Measurement(
    Scenario scenario,
    LoadMode mode,
    String load,
    long requests,
    long ok,
    Map<FailureKind, Long> failures,
    Map<Integer, Long> statuses,
    Duration duration,
    double throughput,
    Duration mean,
    Duration p50,
    Duration p99,
    Duration p999,
    Duration max,
    List<String> failureMessages,
    Optional<String> aborted,
    List<Reload> reloads,
    List<Double> reloadSeconds,
    long failedReloads,
    Optional<String> plot) {

  static Measurement of(
      Scenario scenario,
      LoadMode mode,
      LoadReport report,
      List<Reload> reloads,
      long loadStartNanos,
      @Nullable String plot) {
    var seconds =
        reloads.stream()
            .filter(Reload::ok)
            .map(r -> (r.switchNanos() - loadStartNanos) / 1e9)
            .toList();
    return new Measurement(
        scenario,
        mode,
        report.load().toString(),
        report.requests(),
        report.ok(),
        report.failures(),
        report.statuses(),
        report.duration(),
        report.throughput(),
        report.latencyMean(),
        report.latencyPercentile(50),
        report.latencyPercentile(99),
        report.latencyPercentile(99.9),
        report.latencyMax(),
        report.failureMessages(),
        report.aborted(),
        reloads,
        seconds,
        reloads.stream().filter(r -> !r.ok()).count(),
        Optional.ofNullable(plot));
  }

  long failed() {
    return failures.values().stream().mapToLong(Long::longValue).sum();
  }
}
