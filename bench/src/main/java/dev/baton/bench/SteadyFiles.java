package dev.baton.bench;

import dev.baton.bench.SteadyResults.Ratio;
import dev.baton.bench.SteadyServer.Role;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** What a steady run leaves for programs and for BENCHMARKS.md: report.json and steady-table.md. */
final class SteadyFiles {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private SteadyFiles() {}

  static ObjectNode json(SteadyReport r) {
    var root = JSON.createObjectNode();
    root.put("mode", "steady");
    root.put("started", r.started.toString());
    root.put("finished", r.finished.toString());
    root.put("partial", r.partial);
    root.put("error", r.error.orElse(null));
    var p = root.putObject("plan");
    p.put("sample", r.plan.sample().label());
    p.put("method", r.plan.post() ? "POST" : "GET");
    p.put("rounds", r.plan.rounds());
    p.put("sliceMs", r.plan.slice().toMillis());
    p.put("placement", r.plan.placement().label());
    p.put("loadThreads", r.plan.loadThreads() > 0 ? r.plan.loadThreads() : null);
    var h = root.putObject("host");
    h.put("cpus", r.before.cpus());
    h.put("kernel", r.before.kernel());
    h.put("autogroup", r.before.autogroup().orElse(null));
    h.put("loadAverageStart", r.before.loadAverage());
    h.put("loadAverageEnd", r.after.loadAverage());
    where(root.putObject("bench"), r.bench);
    var servers = root.putArray("servers");
    for (var role : Role.values()) {
      var s = servers.addObject();
      s.put("role", role.key);
      s.put("title", role.title);
      s.put("log", String.valueOf(r.logs.get(role)));
      Optional.ofNullable(r.apps.get(role)).ifPresent(w -> where(s.putObject("app"), w));
      Optional.ofNullable(r.starters.get(role))
          .ifPresent(w -> where(s.putObject("startedByBench"), w));
    }
    var loads = root.putArray("loads");
    for (var mode : r.results.modes()) {
      var l = loads.addObject();
      l.put("load", mode.name());
      l.put("connections", mode.connections());
      l.put("keepAlive", mode.keepAlive());
      l.put("rounds", r.results.rounds(mode));
      var byServer = l.putObject("servers");
      for (var role : Role.values()) {
        var series = r.results.of(mode, role);
        var s = byServer.putObject(role.key);
        s.put("medianPerSecond", r.results.rate(mode, role).median());
        s.put("requests", series.requests);
        s.put("failed", series.failed);
        s.put("firstFailure", series.firstFailure.orElse(null));
        var values = s.putArray("perSecondByRound");
        series.perSecond.forEach(values::add);
      }
      var ratios = l.putObject("ratios");
      for (var ratio : SteadyResults.RATIOS) {
        stats(ratios.putObject(ratio.key()), ratio, r.results.ratio(mode, ratio));
      }
      l.put(
          "targetMet",
          r.results.ratio(mode, SteadyResults.TARGET).median() >= SteadyResults.TARGET_RATIO);
    }
    root.put("failed", r.results.failed());
    var warnings = root.putArray("warnings");
    r.warnings().forEach(warnings::add);
    return root;
  }

  /**
   * The rows for BENCHMARKS.md: median req/s and the per-round ratios' medians with their
   * quartiles.
   */
  static String table(SteadyReport r) {
    var t = new StringBuilder();
    t.append(
        "| sample, load | A req/s | parent req/s | baton req/s | A′/A (control) | parent/A | parent+setsid/parent | baton/parent |\n");
    t.append("|---|---|---|---|---|---|---|---|\n");
    for (var mode : r.results.modes()) {
      t.append(
          String.format(
              Locale.ROOT,
              "| %s, %s | %,.0f | %,.0f | %,.0f |",
              r.plan.sample(),
              mode.name(),
              r.results.rate(mode, Role.BARE_A).median(),
              r.results.rate(mode, Role.PARENT).median(),
              r.results.rate(mode, Role.BATON).median()));
      for (var ratio :
          List.of(
              SteadyResults.CONTROL,
              SteadyResults.PARENT,
              SteadyResults.SESSION,
              SteadyResults.TARGET)) {
        var s = r.results.ratio(mode, ratio);
        t.append(
            String.format(
                Locale.ROOT,
                " %s%.3f%s (%.3f–%.3f) |",
                ratio == SteadyResults.TARGET ? "**" : "",
                s.median(),
                ratio == SteadyResults.TARGET ? "**" : "",
                s.q1(),
                s.q3()));
      }
      t.append('\n');
    }
    t.append(
        String.format(
            Locale.ROOT,
            "%n%d rounds of %s slices, placement %s; medians, quartiles in brackets.%n",
            r.plan.rounds(),
            SteadyReport.seconds(r.plan.slice()),
            r.plan.placement()));
    return t.toString();
  }

  private static void where(ObjectNode node, Placement.Where where) {
    node.put("pid", where.pid());
    node.put("pgid", where.pgid());
    node.put("sid", where.sid());
    node.put("autogroup", where.autogroup());
    node.put("cgroup", where.cgroup());
  }

  private static void stats(ObjectNode node, Ratio ratio, SteadyStats s) {
    node.put("name", ratio.name());
    node.put("n", s.n());
    node.put("median", s.median());
    node.put("q1", s.q1());
    node.put("q3", s.q3());
    node.put("medianLower95", Double.isNaN(s.lower()) ? null : s.lower());
    node.put("medianUpper95", Double.isNaN(s.upper()) ? null : s.upper());
  }
}
