package dev.baton.bench;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** A bench run's report.json: {@link BenchReport} for machines. */
final class BenchJson {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private BenchJson() {}

  /** Everything, for machines: the plan, each measurement, each reload, the ratios, the costs. */
  static ObjectNode of(
      BenchPlan plan,
      Instant started,
      Instant finished,
      boolean partial,
      @Nullable String namespace,
      List<ScenarioResult> results) {
    var root = JSON.createObjectNode();
    root.put("started", started.toString());
    root.put("finished", finished.toString());
    root.put("partial", partial);
    root.put("networkNamespace", namespace);
    var p = root.putObject("plan");
    plan.scenarios().forEach(s -> p.withArray("scenarios").add(s.label()));
    plan.modes().forEach(m -> p.withArray("modes").add(m.name()));
    p.put("method", plan.post() ? "POST" : "GET");
    p.put("durationMs", plan.duration().toMillis());
    p.put("requests", plan.requests());
    p.put("rhythmMs", plan.rhythm().toMillis());
    p.put("config", plan.config().map(Path::toString).orElse(null));
    p.put("sample", plan.config().isPresent() ? null : plan.sample().label());
    p.put("cpus", Runtime.getRuntime().availableProcessors());
    var base = results.stream().filter(r -> r.scenario() == Scenario.NONE).findFirst();
    var scenarios = root.putArray("scenarios");
    for (var r : results) {
      var s = scenarios.addObject();
      s.put("scenario", r.scenario().label());
      s.put("failed", r.failed());
      s.put("error", r.error().orElse(null));
      s.put("log", r.log());
      var loads = s.putArray("loads");
      for (var m : r.measurements()) {
        var l = loads.addObject();
        l.put("mode", m.mode().name());
        l.put("connections", m.mode().connections());
        l.put("keepAlive", m.mode().keepAlive());
        l.put("load", m.load());
        l.put("requests", m.requests());
        l.put("ok", m.ok());
        l.put("failed", m.failed());
        var f = l.putObject("failures");
        m.failures().forEach((kind, count) -> f.put(kind.name().toLowerCase(Locale.ROOT), count));
        var st = l.putObject("statuses");
        m.statuses().forEach((status, count) -> st.put(Integer.toString(status), count));
        l.put("durationMs", m.duration().toNanos() / 1e6);
        l.put("throughput", m.throughput());
        var lat = l.putObject("latencyMs");
        lat.put("mean", m.mean().toNanos() / 1e6);
        lat.put("p50", m.p50().toNanos() / 1e6);
        lat.put("p99", m.p99().toNanos() / 1e6);
        lat.put("p99.9", m.p999().toNanos() / 1e6);
        lat.put("max", m.max().toNanos() / 1e6);
        base.flatMap(
                b -> r.scenario() == Scenario.NONE ? Optional.empty() : BenchReport.baseline(b, m))
            .ifPresent(
                b -> {
                  var ratio = l.putObject("againstBaseline");
                  ratio.put("mean", BenchReport.ratio(m.mean(), b.mean()));
                  ratio.put("p99", BenchReport.ratio(m.p99(), b.p99()));
                  ratio.put("max", BenchReport.ratio(m.max(), b.max()));
                  ratio.put("throughput", m.throughput() / b.throughput());
                });
        l.put("reloads", m.reloads().size());
        l.put("failedReloads", m.failedReloads());
        m.reloadSeconds().forEach(x -> l.withArray("reloadSeconds").add(Math.round(x * 1e4) / 1e4));
        m.failureMessages().forEach(x -> l.withArray("firstFailures").add(x));
        l.put("aborted", m.aborted().orElse(null));
        l.put("plot", m.plot().orElse(null));
      }
      var reloads = r.reloads();
      if (!reloads.isEmpty()) {
        var d = s.putObject("reloadTimingsMs");
        d.put("count", reloads.size());
        d.put("failed", reloads.stream().filter(x -> !x.ok()).count());
        timing(d, "spawned", reloads, Reload::spawnedMs);
        timing(d, "ready", reloads, Reload::readyMs);
        timing(d, "promoted", reloads, Reload::promotedMs);
        timing(d, "drained", reloads, Reload::drainedMs);
        timing(
            d,
            "trafficMoved",
            reloads,
            x -> x.ok() ? OptionalDouble.of(x.switchMs()) : OptionalDouble.empty());
        var failures = reloads.stream().flatMap(x -> x.failure().stream()).limit(10).toList();
        failures.forEach(x -> d.withArray("firstFailures").add(x));
      }
      r.supervisor()
          .ifPresent(
              c -> {
                var sup = s.putObject("supervisor");
                sup.put("idleCpuPercent", c.idleCpuPercent());
                sup.put("cpuSeconds", c.cpuSeconds());
                sup.put("cpuMsPerDeploy", c.cpuMsPerDeploy());
                sup.put("peakRssBytes", c.peakRssBytes());
              });
      for (var run : r.crossChecks()) {
        var c = run.check();
        var x = s.withArray("crossChecks").addObject();
        x.put("tool", c.tool());
        x.put("command", c.command());
        x.put("requests", c.requests());
        x.put("failed", c.failed());
        x.put("failures", c.failures());
        optional(x, "meanMs", c.meanMs());
        optional(x, "p50Ms", c.p50Ms());
        optional(x, "p99Ms", c.p99Ms());
        optional(x, "maxMs", c.maxMs());
        x.put("throughput", c.throughput());
        x.put("reloads", run.reloads());
        x.put("gaveUp", c.gaveUp().orElse(null));
      }
    }
    return root;
  }

  private static void timing(
      ObjectNode node, String name, List<Reload> reloads, Function<Reload, OptionalDouble> of) {
    var values = BenchReport.timings(reloads, of);
    if (values.length > 0) {
      var n = node.putObject(name);
      n.put("median", BenchReport.percentile(values, 50));
      n.put("p99", BenchReport.percentile(values, 99));
      n.put("max", BenchReport.percentile(values, 100));
    }
  }

  private static void optional(ObjectNode node, String name, OptionalDouble value) {
    if (value.isPresent()) {
      node.put(name, value.getAsDouble());
    }
  }
}
