package dev.baton.bench;

import dev.baton.bench.LongLivedSamples.Second;
import dev.baton.bench.LongLivedSamples.Tick;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a long-lived run found, for people (report.txt), for programs (report.json) and as a picture
 * (long-lived.png): the verdict's checks with their figures and bounds, the deploys, and every
 * second sampled.
 */
public final class LongLivedReport {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  final LongLivedPlan plan;
  final Instant started;
  final Instant finished;
  final boolean partial;
  final Optional<String> error;
  final double rampEnd;
  final double deployEnd;
  final int deploys;
  final int failedDeploys;
  final OptionalLong hurried;
  final LongLivedTally end;
  final List<Tick> ticks;
  final List<Second> seconds;
  final LongLivedVerdict verdict;

  LongLivedReport(
      LongLivedPlan plan,
      Instant started,
      Instant finished,
      boolean partial,
      @Nullable String error,
      double rampEnd,
      double deployEnd,
      int deploys,
      int failedDeploys,
      OptionalLong hurried,
      LongLivedTally end,
      List<Tick> ticks,
      List<Second> seconds,
      LongLivedVerdict verdict) {
    this.plan = plan;
    this.started = started;
    this.finished = finished;
    this.partial = partial;
    this.error = Optional.ofNullable(error);
    this.rampEnd = rampEnd;
    this.deployEnd = deployEnd;
    this.deploys = deploys;
    this.failedDeploys = failedDeploys;
    this.hurried = hurried;
    this.end = end;
    this.ticks = List.copyOf(ticks);
    this.seconds = List.copyOf(seconds);
    this.verdict = verdict;
  }

  /** Whether every check passed, every deploy went through, and the run ran to its end. */
  public boolean passes() {
    return verdict.passes() && failedDeploys == 0 && error.isEmpty() && !partial;
  }

  /** What kept the run from passing, in a line; empty when it passed. */
  public Optional<String> trouble() {
    if (error.isPresent()) {
      return Optional.of("could not run to its end: " + error.get());
    }
    if (partial) {
      return Optional.of("stopped early");
    }
    if (failedDeploys > 0) {
      return Optional.of(failedDeploys + " deploys failed");
    }
    var failed =
        verdict.checks().stream().filter(c -> !c.pass()).map(LongLivedVerdict.Check::name).toList();
    return failed.isEmpty()
        ? Optional.empty()
        : Optional.of("failed the checks: " + String.join("; ", failed));
  }

  public Path json() {
    return plan.out().resolve("report.json");
  }

  public Path png() {
    return plan.out().resolve("long-lived.png");
  }

  void write() throws IOException {
    Files.writeString(plan.out().resolve("report.txt"), text());
    JSON.writerWithDefaultPrettyPrinter().writeValue(json().toFile(), toJson());
    LongLivedPlot.write(this, png());
  }

  /** The report for people: the plan, the deploys, the fleet's counts and the checks as a table. */
  public String text() {
    var t = new StringBuilder();
    t.append(
        BenchReport.headline(
            "baton bench --long-lived " + plan.kind(), started, finished, partial));
    t.append(
        String.format(
            Locale.ROOT,
            "the Netty example, %d %s clients (opened in %.1f s), a deploy every %d ms for %d s"
                + " (back to back when slower); [drain] timeout %d ms, max_draining %d;"
                + " reconnect jitter %d ms; [park] max 0%n",
            plan.clients(),
            plan.kind(),
            rampEnd,
            plan.every().toMillis(),
            plan.duration().toSeconds(),
            plan.drainWindow().toMillis(),
            plan.maxDraining(),
            plan.jitter().toMillis()));
    error.ifPresent(e -> t.append("ERROR: ").append(e).append('\n'));
    t.append(
        String.format(
            Locale.ROOT,
            "deploys: %d done, %d failed; draining generations hurried: %s%n",
            deploys,
            failedDeploys,
            hurried.isPresent() ? Long.toString(hurried.getAsLong()) : "unknown"));
    t.append(
        String.format(
            Locale.ROOT,
            "fleet: %,d connects (%,d reconnects), %,d connect failures, %,d polite ends,"
                + " %,d abnormal; %,d messages sent, %,d resent, %,d answered, %,d failed%n%n",
            end.connects(),
            end.reconnects(plan.clients()),
            end.connectFailures(),
            end.politeEnds(),
            end.abnormalEnds(),
            end.sent(),
            end.resent(),
            end.answered(),
            end.failed()));
    var checks = verdict.checks();
    int nameWidth = Math.max(5, checks.stream().mapToInt(c -> c.name().length()).max().orElse(0));
    int figureWidth =
        Math.max(6, checks.stream().mapToInt(c -> c.figure().length()).max().orElse(0));
    var row = "%-" + nameWidth + "s  %-" + figureWidth + "s  %-4s  %s%n";
    t.append(String.format(Locale.ROOT, row, "check", "figure", "pass", "bound"));
    for (var c : checks) {
      t.append(
          String.format(
              Locale.ROOT, row, c.name(), c.figure(), c.pass() ? "ok" : "FAIL", c.bound()));
    }
    t.append(
        String.format(
            Locale.ROOT,
            "%nverdict: %s%nreport.json, report.txt, long-lived.png and baton.log are in %s%n",
            passes() ? "PASS" : "FAIL (" + trouble().orElse("") + ")",
            plan.out().toAbsolutePath()));
    return t.toString();
  }

  ObjectNode toJson() {
    var root = JSON.createObjectNode();
    root.put("started", started.toString());
    root.put("finished", finished.toString());
    root.put("partial", partial);
    root.put("error", error.orElse(null));
    root.put("passes", passes());
    var p = root.putObject("plan");
    p.put("kind", plan.kind());
    p.put("clients", plan.clients());
    p.put("durationMs", plan.duration().toMillis());
    p.put("everyMs", plan.every().toMillis());
    p.put("drainWindowMs", plan.drainWindow().toMillis());
    p.put("maxDraining", plan.maxDraining());
    p.put("reconnectJitterMs", plan.jitter().toMillis());
    p.put("rampMs", plan.ramp().toMillis());
    p.put("cpus", Runtime.getRuntime().availableProcessors());
    root.put("rampEndSeconds", rampEnd);
    root.put("deployEndSeconds", deployEnd);
    root.put("deploys", deploys);
    root.put("failedDeploys", failedDeploys);
    if (hurried.isPresent()) {
      root.put("hurried", hurried.getAsLong());
    } else {
      root.putNull("hurried");
    }
    var f = root.putObject("fleet");
    f.put("connects", end.connects());
    f.put("reconnects", end.reconnects(plan.clients()));
    f.put("connectFailures", end.connectFailures());
    f.put("politeEnds", end.politeEnds());
    f.put("abnormalEnds", end.abnormalEnds());
    f.put("sent", end.sent());
    f.put("resent", end.resent());
    f.put("answered", end.answered());
    f.put("failed", end.failed());
    var judged = judgedTicks();
    var judgedSeconds = judgedSeconds();
    int bound = plan.maxDraining() + 1;
    var s = root.putObject("serving");
    s.put("bound", bound);
    s.put("max", LongLivedVerdict.maxServing(judged));
    s.put("shareAbove", LongLivedVerdict.shareAbove(judged, bound));
    s.put("longestAboveMs", LongLivedVerdict.longestAboveMillis(judged, bound));
    s.put("samples", judged.size());
    var r = root.putObject("reconnects");
    r.put("peakPerSecond", LongLivedVerdict.peakReconnects(judgedSeconds));
    r.put("peakCompletedPerSecond", LongLivedVerdict.peakCompleted(judgedSeconds));
    r.put("evenPerSecond", LongLivedVerdict.evenReconnectRate(judgedSeconds));
    var m = root.putObject("memory");
    m.put("windowSeconds", LongLivedVerdict.window(judgedSeconds));
    m.put("rssGrowthBytes", LongLivedVerdict.growth(judgedSeconds, Second::rssBytes));
    m.put(
        "memAvailableDropBytes",
        -LongLivedVerdict.growth(judgedSeconds, Second::memAvailableBytes));
    var checks = root.putArray("checks");
    for (var c : verdict.checks()) {
      var o = checks.addObject();
      o.put("name", c.name());
      o.put("figure", c.figure());
      o.put("bound", c.bound());
      o.put("pass", c.pass());
    }
    var series = root.putArray("seconds");
    for (var sec : seconds) {
      var o = series.addObject();
      o.put("at", Math.round(sec.at() * 10) / 10.0);
      o.put("reconnects", sec.reconnects());
      o.put("attempts", sec.attempts());
      o.put("politeEnds", sec.politeEnds());
      o.put("abnormalEnds", sec.abnormalEnds());
      o.put("sent", sec.sent());
      o.put("answered", sec.answered());
      o.put("failed", sec.failed());
      o.put("open", sec.open());
      o.put("serving", sec.serving());
      o.put("live", sec.live());
      o.put("rssBytes", sec.rssBytes());
      o.put("memAvailableBytes", sec.memAvailableBytes());
    }
    return root;
  }

  /** The ticks the verdict judged: after the ramp, while the deploys went on. */
  List<Tick> judgedTicks() {
    return ticks.stream().filter(t -> t.at() >= rampEnd && t.at() <= deployEnd).toList();
  }

  List<Second> judgedSeconds() {
    return seconds.stream()
        .filter(s -> s.at() - 1 >= rampEnd - 1e-3 && s.at() <= deployEnd + 1e-3)
        .toList();
  }

  /** The serving generations' bound, for the picture. */
  int servingBound() {
    return plan.maxDraining() + 1;
  }
}
