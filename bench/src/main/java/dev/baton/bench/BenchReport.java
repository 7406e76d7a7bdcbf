package dev.baton.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a bench run found: a table per scenario, ratios against the baseline of the same run, the
 * deploy timings, the supervisor's cost, and the cross-checks; as text for people and as JSON.
 */
public final class BenchReport {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final BenchPlan plan;
  private final Instant started;
  private final Instant finished;
  private final boolean partial;
  private final @Nullable String namespace;
  private final List<ScenarioResult> results;

  BenchReport(
      BenchPlan plan,
      Instant started,
      Instant finished,
      boolean partial,
      @Nullable String namespace,
      List<ScenarioResult> results) {
    this.plan = plan;
    this.started = started;
    this.finished = finished;
    this.partial = partial;
    this.namespace = namespace;
    this.results = List.copyOf(results);
  }

  /** Whether the run was stopped before its end (Ctrl-C). */
  boolean partial() {
    return partial;
  }

  /** Failed requests in the baton scenario, over every load mode; 0 is the claim. */
  public long batonFailures() {
    return results.stream()
        .filter(r -> r.scenario().supervised())
        .mapToLong(ScenarioResult::failed)
        .sum();
  }

  /** Whether a baton scenario could not run to its end, or a deploy in it failed. */
  public Optional<String> batonTrouble() {
    for (var r : results) {
      if (r.scenario().supervised()) {
        if (r.error().isPresent()) {
          return Optional.of(r.scenario() + ": " + r.error().get());
        }
        long failedDeploys = r.measurements().stream().mapToLong(Measurement::failedReloads).sum();
        if (failedDeploys > 0) {
          return Optional.of(
              r.scenario() + ": " + failedDeploys + " deploys failed; see " + r.log());
        }
      }
    }
    return Optional.empty();
  }

  public Path json() {
    return plan.out().resolve("report.json");
  }

  void write(Path out) throws IOException {
    Files.writeString(out.resolve("report.txt"), text());
    JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("report.json").toFile(), toJson());
  }

  /** The first line of a report for people, {@code title} and when the run started and took. */
  static String headline(String title, Instant started, Instant finished, boolean partial) {
    return String.format(
        Locale.ROOT,
        "%s, %s, %d s%s%n",
        title,
        started,
        Duration.between(started, finished).toSeconds(),
        partial ? ", STOPPED EARLY: partial report" : "");
  }

  /** The report for people: tables, ratios, deploy timings, the supervisor's cost, cross-checks. */
  public String text() {
    var t = new StringBuilder();
    t.append(headline("baton bench", started, finished, partial));
    t.append(
        String.format(
            Locale.ROOT,
            "%s, %s, %s per load%s, a reload every %d ms (back to back when slower)%s%n",
            plan.config()
                .map(c -> "your service of " + c)
                .orElse("the " + plan.sample() + " sample"),
            plan.post() ? "POST / with 512 B" : "GET /",
            seconds(plan.duration()),
            plan.requests() == Long.MAX_VALUE
                ? ""
                : String.format(Locale.ROOT, " or %,d requests", plan.requests()),
            plan.rhythm().toMillis(),
            namespace == null ? "" : "; in network namespace " + namespace));
    for (var r : results) {
      t.append('\n')
          .append(r.scenario())
          .append(r.error().map(e -> "  (did not finish: " + e + ")").orElse(""))
          .append('\n');
      t.append(
          String.format(
              Locale.ROOT,
              "  %-20s %12s %-32s %9s %9s %9s %9s %9s %9s %8s%n",
              "load",
              "requests",
              "failed",
              "mean",
              "p50",
              "p99",
              "p99.9",
              "max",
              "req/s",
              "reloads"));
      for (var m : r.measurements()) {
        t.append(
            String.format(
                Locale.ROOT,
                "  %-20s %,12d %-32s %9s %9s %9s %9s %9s %,9.0f %8s%n",
                m.mode().name(),
                m.requests(),
                failures(m),
                ms(m.mean()),
                ms(m.p50()),
                ms(m.p99()),
                ms(m.p999()),
                ms(m.max()),
                m.throughput(),
                m.scenario().reloads()
                    ? m.reloads().size() + (m.failedReloads() > 0 ? "!" + m.failedReloads() : "")
                    : "-"));
        m.aborted().ifPresent(a -> t.append("    ABORTED: ").append(a).append('\n'));
        if (!m.failureMessages().isEmpty()) {
          t.append("    first failure: ").append(m.failureMessages().getFirst()).append('\n');
        }
      }
    }
    ratios(t);
    deploys(t);
    supervisors(t);
    crossChecks(t);
    t.append("\nFiles: ")
        .append(plan.out().toAbsolutePath())
        .append(" (report.json, report.txt, a PNG per load, a log per scenario)\n");
    return t.toString();
  }

  private void ratios(StringBuilder t) {
    var base = results.stream().filter(r -> r.scenario() == Scenario.NONE).findFirst();
    if (base.isEmpty() || results.size() < 2) {
      return;
    }
    t.append(
        "\nAgainst the baseline (none) of this run: latency ratios of ok requests, and throughput\n");
    t.append(
        String.format(
            Locale.ROOT,
            "  %-18s %-20s %7s %7s %7s %11s%n",
            "scenario",
            "load",
            "mean",
            "p99",
            "max",
            "throughput"));
    for (var r : results) {
      if (r.scenario() == Scenario.NONE) {
        continue;
      }
      for (var m : r.measurements()) {
        baseline(base.get(), m)
            .ifPresent(
                b ->
                    t.append(
                        String.format(
                            Locale.ROOT,
                            "  %-18s %-20s %6.2fx %6.2fx %6.2fx %10.3fx%n",
                            r.scenario(),
                            m.mode().name(),
                            ratio(m.mean(), b.mean()),
                            ratio(m.p99(), b.p99()),
                            ratio(m.max(), b.max()),
                            m.throughput() / b.throughput())));
      }
    }
  }

  static Optional<Measurement> baseline(ScenarioResult base, Measurement m) {
    return base.measurements().stream().filter(b -> b.mode().equals(m.mode())).findFirst();
  }

  private void deploys(StringBuilder t) {
    for (var r : results) {
      var reloads = r.reloads();
      if (reloads.isEmpty()) {
        continue;
      }
      long failed = reloads.stream().filter(x -> !x.ok()).count();
      t.append(
          String.format(
              Locale.ROOT,
              "%nReloads, %s: %d (%d failed), timed from the moment bench asked; median / p99%n",
              r.scenario(),
              reloads.size(),
              failed));
      step(t, "spawned", reloads, Reload::spawnedMs);
      step(t, "ready", reloads, Reload::readyMs);
      step(t, "promoted", reloads, Reload::promotedMs);
      step(t, "drained", reloads, Reload::drainedMs);
      // A stop-start moves traffic the moment it asks (SIGTERM): nothing to time.
      step(
          t,
          "traffic moved",
          reloads,
          r2 ->
              r2.ok() && r2.switchNanos() != r2.askedNanos()
                  ? OptionalDouble.of(r2.switchMs())
                  : OptionalDouble.empty());
    }
  }

  private static void step(
      StringBuilder t, String name, List<Reload> reloads, Function<Reload, OptionalDouble> of) {
    var values = timings(reloads, of);
    if (values.length > 0) {
      t.append(
          String.format(
              Locale.ROOT,
              "  %-14s %9.1f ms / %9.1f ms%n",
              name,
              percentile(values, 50),
              percentile(values, 99)));
    }
  }

  private void supervisors(StringBuilder t) {
    for (var r : results) {
      r.supervisor()
          .ifPresent(
              s ->
                  t.append(
                      String.format(
                          Locale.ROOT,
                          "%nSupervisor, %s: idle CPU %.2f%% of a core; %.2f s CPU over the loads (%.1f ms per deploy); peak RSS %.1f MB%n",
                          r.scenario(),
                          s.idleCpuPercent(),
                          s.cpuSeconds(),
                          s.cpuMsPerDeploy(),
                          s.peakRssBytes() / 1048576.0)));
    }
  }

  private void crossChecks(StringBuilder t) {
    if (results.stream().allMatch(r -> r.crossChecks().isEmpty())) {
      return;
    }
    t.append("\nCross-checks by other tools, beside bench's own load of the same kind\n");
    t.append(
        String.format(
            Locale.ROOT,
            "  %-18s %-22s %12s %-44s %8s %8s %8s %9s %9s%n",
            "scenario",
            "tool",
            "requests",
            "failed",
            "mean",
            "p50",
            "p99",
            "max",
            "req/s"));
    for (var r : results) {
      for (var run : r.crossChecks()) {
        var c = run.check();
        t.append(
            String.format(
                Locale.ROOT,
                "  %-18s %-22s %,12d %-44s %8s %8s %8s %9s %,9.0f%n",
                r.scenario(),
                c.tool().equals("wrk") ? "wrk keep-alive" : "ab c=1 per-request",
                c.requests(),
                c.failed() + " (" + c.failures() + ")",
                ms(c.meanMs()),
                ms(c.p50Ms()),
                ms(c.p99Ms()),
                ms(c.maxMs()),
                c.throughput()));
        c.gaveUp()
            .ifPresent(
                g -> t.append("    ").append(c.tool()).append(" gave up: ").append(g).append('\n'));
        var ours =
            r.measurements().stream()
                .filter(
                    m ->
                        c.tool().equals("wrk") ? m.mode().keepAlive() : m.mode().connections() == 1)
                .findFirst();
        ours.ifPresent(
            m ->
                t.append(
                    String.format(
                        Locale.ROOT,
                        "  %-18s %-22s %,12d %-44s %8s %8s %8s %9s %,9.0f%n",
                        "",
                        "bench " + m.mode().name(),
                        m.requests(),
                        failures(m),
                        ms(m.mean()),
                        ms(m.p50()),
                        ms(m.p99()),
                        ms(m.max()),
                        m.throughput())));
      }
    }
  }

  private static String failures(Measurement m) {
    var kinds = new ArrayList<String>();
    m.failures()
        .forEach(
            (kind, count) -> {
              if (count > 0) {
                kinds.add(kind.name().toLowerCase(Locale.ROOT) + " " + count);
              }
            });
    return kinds.isEmpty()
        ? "0"
        : String.format(Locale.ROOT, "%,d (%s)", m.failed(), String.join(", ", kinds));
  }

  static double ratio(Duration a, Duration b) {
    return b.isZero() ? Double.NaN : (double) a.toNanos() / b.toNanos();
  }

  static double percentile(double[] values, double p) {
    var sorted = values.clone();
    Arrays.sort(sorted);
    int i = (int) Math.ceil(p / 100 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private static String ms(Duration d) {
    return String.format(
        Locale.ROOT, d.toNanos() < 10_000_000 ? "%.3f ms" : "%.1f ms", d.toNanos() / 1e6);
  }

  private static String ms(OptionalDouble d) {
    return d.isPresent() ? String.format(Locale.ROOT, "%.2f ms", d.getAsDouble()) : "-";
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
  }

  /** One timing of each reload that has it: a failed reload has none past where it failed. */
  static double[] timings(List<Reload> reloads, Function<Reload, OptionalDouble> of) {
    return reloads.stream()
        .map(of)
        .filter(OptionalDouble::isPresent)
        .mapToDouble(OptionalDouble::getAsDouble)
        .toArray();
  }

  /** Everything, for machines: the plan, each measurement, each reload, the ratios, the costs. */
  ObjectNode toJson() {
    return BenchJson.of(plan, started, finished, partial, namespace, results);
  }
}
