package dev.baton.bench;

import dev.baton.bench.SteadyServer.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a steady run found, for people (report.txt), for programs (report.json) and for
 * BENCHMARKS.md (steady-table.md): where each server sat, its median req/s per load, and the
 * per-round ratios with their quartiles and the median's 95 % interval.
 */
public final class SteadyReport {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** The machine as the run saw it, at its start and at its end. */
  record Host(int cpus, String kernel, Optional<Boolean> autogroup, String loadAverage) {
    static Host now() {
      var load = Placement.readOr(Path.of("/proc/loadavg"), "").trim().split(" ");
      return new Host(
          Runtime.getRuntime().availableProcessors(),
          Placement.readOr(Path.of("/proc/sys/kernel/osrelease"), "?").trim(),
          Placement.autogroupEnabled(),
          load.length >= 3 ? String.join(" ", load[0], load[1], load[2]) : "?");
    }
  }

  final SteadyPlan plan;
  final Instant started;
  final Instant finished;
  final boolean partial;
  final Optional<String> error;
  final Host before;
  final Host after;
  final Placement.Where bench;
  final Map<Role, Placement.Where> apps;
  final Map<Role, Placement.Where> starters;
  final Map<Role, Path> logs;
  final SteadyResults results;

  SteadyReport(
      SteadyPlan plan,
      Instant started,
      Instant finished,
      boolean partial,
      @Nullable String error,
      Host before,
      Host after,
      Placement.Where bench,
      Map<Role, Placement.Where> apps,
      Map<Role, Placement.Where> starters,
      Map<Role, Path> logs,
      SteadyResults results) {
    this.plan = plan;
    this.started = started;
    this.finished = finished;
    this.partial = partial;
    this.error = Optional.ofNullable(error);
    this.before = before;
    this.after = after;
    this.bench = bench;
    this.apps = Map.copyOf(apps);
    this.starters = Map.copyOf(starters);
    this.logs = Map.copyOf(logs);
    this.results = results;
  }

  public Path json() {
    return plan.out().resolve("report.json");
  }

  public long failed() {
    return results.failed();
  }

  /** What went wrong, when the run did not measure everything it set out to. */
  public Optional<String> trouble() {
    if (error.isPresent()) {
      return error;
    }
    return results.everyServerAnswered()
        ? Optional.empty()
        : Optional.of("a server answered no request in a slice");
  }

  void write() throws IOException {
    Files.writeString(plan.out().resolve("report.txt"), text());
    Files.writeString(plan.out().resolve("steady-table.md"), SteadyFiles.table(this));
    JSON.writerWithDefaultPrettyPrinter().writeValue(json().toFile(), toJson());
  }

  /** "bench in session 12 (/autogroup-3); A: session 12, ..." for the progress line. */
  static String placementLine(Placement.Where bench, Map<Role, Placement.Where> apps) {
    var parts = new ArrayList<String>();
    for (var e : apps.entrySet()) {
      parts.add(
          e.getKey().shortName
              + " "
              + (e.getValue().sid() == bench.sid()
                  ? "in bench's session"
                  : "in a session of its own"));
    }
    return "bench in session " + bench.sid() + "; " + String.join(", ", parts);
  }

  public String text() {
    var t = new StringBuilder();
    t.append(BenchReport.headline("baton bench --steady", started, finished, partial));
    t.append(
        String.format(
            Locale.ROOT,
            "the %s sample, %s, %d rounds of %s slices per server and load, the order"
                + " rotated and flipped every round; load generator threads: %s%n",
            plan.sample(),
            plan.post() ? "POST / with 512 B" : "GET /",
            plan.rounds(),
            seconds(plan.slice()),
            plan.loadThreads() > 0 ? plan.loadThreads() : "bench's default"));
    t.append(
        String.format(
            Locale.ROOT,
            "host: %d CPUs, Linux %s, kernel.sched_autogroup_enabled=%s, load average %s at"
                + " the start, %s at the end%n",
            before.cpus(),
            before.kernel(),
            before.autogroup().map(on -> on ? "1" : "0").orElse("(none)"),
            before.loadAverage(),
            after.loadAverage()));
    error.ifPresent(e -> t.append("did not finish: ").append(e).append('\n'));
    placement(t);
    for (var mode : results.modes()) {
      load(t, mode);
    }
    var warnings = warnings();
    if (!warnings.isEmpty()) {
      t.append("\nWarnings\n");
      warnings.forEach(w -> t.append("  - ").append(w).append('\n'));
    }
    t.append("\nFiles: ")
        .append(plan.out().toAbsolutePath())
        .append(
            " (report.json, report.txt, steady-table.md for BENCHMARKS.md, a log per server)\n");
    return t.toString();
  }

  private void placement(StringBuilder t) {
    t.append(
        String.format(
            Locale.ROOT,
            "%nPlacement: bench started each server (or its parent) %s; bench is pid %d,"
                + " session %d, %s, cgroup %s%n",
            plan.placement() == Placement.GROUP
                ? "in a process group of its own in bench's session"
                : "in a session of its own",
            bench.pid(),
            bench.sid(),
            bench.autogroupName(),
            bench.cgroup()));
    t.append(
        String.format(
            Locale.ROOT,
            "  %-34s %8s %8s %8s  %-26s %-16s %s%n",
            "server: the app's process",
            "pid",
            "pgid",
            "sid",
            "session",
            "autogroup",
            "cgroup"));
    for (var role : Role.values()) {
      var where = apps.get(role);
      if (where == null) {
        t.append(String.format(Locale.ROOT, "  %-34s (not found)%n", role.title));
        continue;
      }
      t.append(
          String.format(
              Locale.ROOT,
              "  %-34s %8d %8d %8d  %-26s %-16s %s%n",
              role.title,
              where.pid(),
              where.pgid(),
              where.sid(),
              session(where),
              where.autogroupName(),
              where.cgroup()));
    }
  }

  private String session(Placement.Where where) {
    return where.sid() == bench.sid()
        ? "bench's"
        : where.sid() == where.pid() ? "its own (setsid)" : "its parent's, not bench's";
  }

  private void load(StringBuilder t, LoadMode mode) {
    int rounds = results.rounds(mode);
    long requests = 0;
    long failed = 0;
    var rates = new StringBuilder();
    for (var role : Role.values()) {
      var s = results.of(mode, role);
      requests += s.requests;
      failed += s.failed;
      rates.append(
          String.format(
              Locale.ROOT, "   %s %,.0f", role.shortName, results.rate(mode, role).median()));
    }
    t.append(
        String.format(
            Locale.ROOT,
            "%n%s, %d rounds: %,d requests, %,d failed%n",
            mode.name(),
            rounds,
            requests,
            failed));
    if (rounds == 0) {
      t.append("  no round finished under this load\n");
      return;
    }
    t.append("  median req/s:").append(rates).append('\n');
    for (var role : Role.values()) {
      results
          .of(mode, role)
          .firstFailure
          .ifPresent(
              f ->
                  t.append("  ")
                      .append(role.title)
                      .append(", first failure: ")
                      .append(f)
                      .append('\n'));
    }
    t.append(
        String.format(
            Locale.ROOT,
            "  %-21s %7s  %-16s  %-19s%n",
            "ratio per round",
            "median",
            "quartiles",
            "median's 95 % range"));
    for (var ratio : SteadyResults.RATIOS) {
      var s = results.ratio(mode, ratio);
      t.append(
          String.format(
              Locale.ROOT,
              "  %-21s %7.3f  %5.3f to %5.3f    %s  %s%n",
              ratio.name(),
              s.median(),
              s.q1(),
              s.q3(),
              Double.isNaN(s.lower())
                  ? "(too few rounds)   "
                  : String.format(Locale.ROOT, "%5.3f to %5.3f     ", s.lower(), s.upper()),
              ratio.meaning()));
    }
    var target = results.ratio(mode, SteadyResults.TARGET);
    if (target.n() > 0) {
      t.append(
          String.format(
              Locale.ROOT,
              "  target baton/parent >= %.2f: %s%n",
              SteadyResults.TARGET_RATIO,
              verdict(target)));
    }
  }

  private static String verdict(SteadyStats target) {
    boolean met = target.median() >= SteadyResults.TARGET_RATIO;
    if (Double.isNaN(target.lower())) {
      return (met ? "met" : "missed") + " by the median, from too few rounds to say how surely";
    }
    if (target.lower() >= SteadyResults.TARGET_RATIO) {
      return "met, with the median's 95 % range above it";
    }
    if (target.upper() < SteadyResults.TARGET_RATIO) {
      return "missed, with the median's 95 % range below it";
    }
    return (met ? "met" : "missed")
        + " by the median, but its 95 % range holds "
        + SteadyResults.TARGET_RATIO
        + ": not resolved; more rounds narrow the range";
  }

  /** What makes the figures less than they look. */
  List<String> warnings() {
    var warnings = new ArrayList<String>();
    for (var mode : results.modes()) {
      var control = results.ratio(mode, SteadyResults.CONTROL);
      if (control.n() > 0 && !control.quartilesWithin(SteadyResults.CONTROL_PERCENT)) {
        warnings.add(
            String.format(
                Locale.ROOT,
                "%s: the control A'/A scatters by more than ±%.0f %% from round to round"
                    + " (quartiles %.3f to %.3f): one round's ratio cannot show a 1 %% difference. More rounds narrow the"
                    + " median's range, not the quartiles; a quieter machine or longer slices (--slice 2s) do.",
                mode.name(),
                SteadyResults.CONTROL_PERCENT,
                control.q1(),
                control.q3()));
      }
      if (!Double.isNaN(control.lower()) && (control.lower() > 1 || control.upper() < 1)) {
        warnings.add(
            String.format(
                Locale.ROOT,
                "%s: the control's median is off 1 beyond its 95 %% range (%.3f to"
                    + " %.3f): two identical servers measured differently, so the other ratios may be biased too.",
                mode.name(),
                control.lower(),
                control.upper()));
      }
    }
    var a = apps.get(Role.BARE_A);
    var baton = apps.get(Role.BATON);
    if (a != null
        && baton != null
        && before.autogroup().orElse(false)
        && (a.sid() == bench.sid()) != (baton.sid() == bench.sid())) {
      warnings.add(
          "baton run's app sits "
              + (baton.sid() == bench.sid() ? "in bench's session" : "in a session of its own")
              + ", the bare and parent apps "
              + (a.sid() == bench.sid() ? "in bench's" : "each in their own")
              + ": with autogroup on, baton/parent includes that placement's cost, which parent+setsid/parent measures alone.");
    }
    var cgroups = apps.values().stream().map(Placement.Where::cgroup).distinct().toList();
    if (cgroups.size() > 1) {
      warnings.add(
          "the apps are in different cgroups ("
              + String.join(", ", cgroups)
              + "): their CPU is not shared alike.");
    }
    if (results.failed() > 0) {
      warnings.add(
          String.format(
              Locale.ROOT,
              "%,d requests failed; see the first failures above and the logs.",
              results.failed()));
    }
    return warnings;
  }

  /** Everything, for machines. */
  ObjectNode toJson() {
    return SteadyFiles.json(this);
  }

  static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
