package dev.baton.supervisor;

import dev.baton.os.Os;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.Status;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the supervisor counts, in the Prometheus text format (version 0.0.4): names under baton_,
 * base units (seconds, bytes), _total on counters. Written here rather than with the Prometheus
 * Java client: a dozen series need no registry, and every class the supervisor loads stays resident
 * for as long as it runs. Counted on the loop; rendered on the loop too, from the same turn's
 * {@link Status}, so that one scrape never mixes two moments.
 */
final class Metrics {
  /** Seconds: a light app is promoted in tens of milliseconds, a JVM one in seconds. */
  static final double[] BUCKETS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

  /** A cumulative histogram, as Prometheus reads one: counts per upper bound, +Inf last. */
  static final class Histogram {
    final long[] counts = new long[BUCKETS.length];
    long count;
    double sum;

    void observe(Duration d) {
      double seconds = d.toNanos() / 1e9;
      for (int i = 0; i < BUCKETS.length; i++) {
        if (seconds <= BUCKETS[i]) {
          counts[i]++;
        }
      }
      count++;
      sum += seconds;
    }
  }

  /** Deploys ended, by kind, result and what set them off: {kind,result,trigger} -> count. */
  private final Map<String, Long> deploys = new TreeMap<>();

  private final Map<String, Histogram> durations = new TreeMap<>();
  private final Map<String, Histogram> phases = new TreeMap<>();
  private final Histogram drains = new Histogram();
  private long hurried;
  private long probesOk;
  private long probesFailed;

  /** One deploy ended; {@code ready} and {@code promoted} are from its spawn, when reached. */
  void deployed(
      DeployKind kind,
      String trigger,
      boolean ok,
      Duration total,
      Optional<Duration> ready,
      Optional<Duration> promoted) {
    var kindLabel = kind.name().toLowerCase(Locale.ROOT);
    deploys.merge(
        "kind=\"%s\",result=\"%s\",trigger=\"%s\""
            .formatted(kindLabel, ok ? "ok" : "failed", trigger),
        1L,
        Long::sum);
    durations.computeIfAbsent("kind=\"" + kindLabel + "\"", k -> new Histogram()).observe(total);
    ready.ifPresent(
        r -> phases.computeIfAbsent("phase=\"ready\"", k -> new Histogram()).observe(r));
    promoted.ifPresent(
        p ->
            phases
                .computeIfAbsent("phase=\"promoted\"", k -> new Histogram())
                .observe(ready.map(p::minus).orElse(p)));
  }

  /** An old generation was drained: from its drain signal until it exited. */
  void drained(Duration took) {
    drains.observe(took);
  }

  /** A draining generation was hurried: more were draining than {@code [drain] max_draining}. */
  void hurried() {
    hurried++;
  }

  /** One of the bake's probes of the newly promoted generation. */
  void probed(boolean ok) {
    if (ok) {
      probesOk++;
    } else {
      probesFailed++;
    }
  }

  /** Everything, as /metrics answers it. */
  String render(Status status, Map<String, Optional<Os.AcceptQueue>> queues, String version) {
    var out = new StringBuilder(4096);
    gauge(out, "baton_build_info", "The running baton's version.");
    out.append("baton_build_info{version=\"").append(escape(version)).append("\"} 1\n");

    counter(out, "baton_deploys_total", "Deploys, rollbacks and restarts that ended, by result.");
    deploys.forEach((labels, n) -> line(out, "baton_deploys_total", labels, n));
    histogram(out, "baton_deploy_duration_seconds", "From spawn to promotion, or to failure.");
    durations.forEach(
        (labels, h) -> histogramLines(out, "baton_deploy_duration_seconds", labels, h));
    histogram(
        out,
        "baton_deploy_phase_seconds",
        "Spawned to ready (phase=ready), and ready to promoted (phase=promoted).");
    phases.forEach((labels, h) -> histogramLines(out, "baton_deploy_phase_seconds", labels, h));
    histogram(out, "baton_drain_duration_seconds", "From an old generation's drain to its exit.");
    histogramLines(out, "baton_drain_duration_seconds", "", drains);
    counter(
        out,
        "baton_drains_hurried_total",
        "Draining generations hurried (told to finish now, SIGKILLed after [drain] hurry) because"
            + " more than [drain] max_draining were draining.");
    line(out, "baton_drains_hurried_total", "", hurried);

    gauge(out, "baton_generations", "Generations the supervisor holds, by state.");
    var byState = new TreeMap<String, Long>();
    for (var state : GenerationState.values()) {
      byState.put(state.label(), 0L);
    }
    status.generations().forEach(g -> byState.merge(g.state(), 1L, Long::sum));
    byState.forEach((state, n) -> line(out, "baton_generations", "state=\"" + state + "\"", n));
    gauge(out, "baton_active_generation", "The active generation's number; 0 when none is.");
    line(out, "baton_active_generation", "", status.activeGeneration().orElse(0));
    gauge(out, "baton_active_generation_start_time_seconds", "When the active generation started.");
    status.generations().stream()
        .filter(g -> status.activeGeneration().equals(Optional.of(g.number())))
        .findFirst()
        .ifPresent(
            g ->
                out.append("baton_active_generation_start_time_seconds ")
                    .append(g.started().toEpochMilli() / 1000.0)
                    .append('\n'));
    gauge(out, "baton_parked_generations", "Generations parked for an instant rollback.");
    line(out, "baton_parked_generations", "", status.parked().size());
    gauge(out, "baton_deploying", "1 while a deploy or rollback is in progress.");
    line(out, "baton_deploying", "", status.deploying() ? 1 : 0);
    gauge(out, "baton_crash_loop", "1 while crash restarts back off; the status says why.");
    line(out, "baton_crash_loop", "", status.crashLoop().isPresent() ? 1 : 0);
    counter(out, "baton_bake_probes_total", "The bake's probes of a promoted generation.");
    line(out, "baton_bake_probes_total", "result=\"ok\"", probesOk);
    line(out, "baton_bake_probes_total", "result=\"failed\"", probesFailed);

    gauge(out, "baton_listener_queue_length", "Connections in a listener's accept queue.");
    queues.forEach(
        (name, q) ->
            q.ifPresent(v -> line(out, "baton_listener_queue_length", listener(name), v.length())));
    gauge(out, "baton_listener_queue_max", "The most a listener's accept queue holds.");
    queues.forEach(
        (name, q) ->
            q.ifPresent(v -> line(out, "baton_listener_queue_max", listener(name), v.max())));
    return out.toString();
  }

  private static String listener(String name) {
    return "listener=\"" + escape(name) + "\"";
  }

  private static void histogramLines(StringBuilder out, String name, String labels, Histogram h) {
    var prefix = labels.isEmpty() ? "" : labels + ",";
    for (int i = 0; i < BUCKETS.length; i++) {
      line(out, name + "_bucket", prefix + "le=\"" + BUCKETS[i] + "\"", h.counts[i]);
    }
    line(out, name + "_bucket", prefix + "le=\"+Inf\"", h.count);
    out.append(name).append("_sum").append(labels.isEmpty() ? "" : "{" + labels + "}");
    out.append(' ').append(h.sum).append('\n');
    line(out, name + "_count", labels, h.count);
  }

  static void line(StringBuilder out, String name, String labels, long value) {
    out.append(name);
    if (!labels.isEmpty()) {
      out.append('{').append(labels).append('}');
    }
    out.append(' ').append(value).append('\n');
  }

  static void counter(StringBuilder out, String name, String help) {
    header(out, name, help, "counter");
  }

  static void gauge(StringBuilder out, String name, String help) {
    header(out, name, help, "gauge");
  }

  private static void histogram(StringBuilder out, String name, String help) {
    header(out, name, help, "histogram");
  }

  private static void header(StringBuilder out, String name, String help, String type) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  /** A label value as the text format quotes it. */
  static String escape(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
