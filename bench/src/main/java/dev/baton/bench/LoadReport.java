package dev.baton.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * What a load did: every request sent, counted once as ok or failed by {@link FailureKind}; latency
 * percentiles of the ok requests; throughput; and a timeline of every request for plots. Immutable.
 */
public final class LoadReport {

  /** Receives one request of the timeline. */
  @FunctionalInterface
  public interface RequestVisitor {
    /**
     * @param startMicros when the request started, from the load's start, in microseconds
     * @param latencyMicros how long it took to its response or its failure, connecting included
     * @param failure why it failed; null when it was ok
     */
    void visit(long startMicros, long latencyMicros, @Nullable FailureKind failure);
  }

  private final Load load;
  private final long ok;
  private final Map<FailureKind, Long> failures;
  private final SortedMap<Integer, Long> statuses;
  private final SortedMap<String, Long> answers;
  private final long connects;
  private final Duration duration;
  private final Histogram latency;
  private final List<String> failureMessages;
  private final Optional<String> aborted;
  private final long[] okPerSecond;
  private final long[] failedPerSecond;
  private final List<Timeline> timelines;

  private LoadReport(
      Load load, long startNanos, List<Tally> tallies, @Nullable String abortReason) {
    this.load = load;
    this.aborted = Optional.ofNullable(abortReason);
    var failures = new EnumMap<FailureKind, Long>(FailureKind.class);
    for (FailureKind kind : FailureKind.values()) {
      failures.put(kind, tallies.stream().mapToLong(t -> t.failures[kind.ordinal()]).sum());
    }
    this.failures = Collections.unmodifiableMap(failures);
    var statuses = new TreeMap<Integer, Long>();
    for (int status = 0; status < 1000; status++) {
      final int s = status;
      long count = tallies.stream().mapToLong(t -> t.statuses[s]).sum();
      if (count > 0) {
        statuses.put(status, count);
      }
    }
    this.statuses = Collections.unmodifiableSortedMap(statuses);
    var answers = new TreeMap<String, Long>();
    tallies.forEach(t -> t.answers.forEach((body, count) -> answers.merge(body, count, Long::sum)));
    this.answers = Collections.unmodifiableSortedMap(answers);
    this.ok = tallies.stream().mapToLong(t -> t.ok).sum();
    this.connects = tallies.stream().mapToLong(t -> t.connects).sum();
    long finished = tallies.stream().mapToLong(t -> t.finishedNanos).max().orElse(startNanos);
    this.duration = Duration.ofNanos(Math.max(1, finished - startNanos));
    this.latency = new Histogram(Tally.MAX_LATENCY_NANOS, 3);
    tallies.forEach(t -> latency.add(t.latency));
    this.failureMessages =
        tallies.stream()
            .flatMap(t -> t.messages.stream())
            .sorted(Comparator.comparingLong(Tally.Message::atNanos))
            .limit(Tally.MESSAGES)
            .map(Tally.Message::text)
            .toList();
    int seconds =
        (int)
            Math.min(
                (duration.toNanos() + 999_999_999L) / 1_000_000_000L,
                tallies.getFirst().okPerSecond.length);
    this.okPerSecond = new long[seconds];
    this.failedPerSecond = new long[seconds];
    for (Tally t : tallies) {
      for (int i = 0; i < seconds; i++) {
        okPerSecond[i] += t.okPerSecond[i];
        failedPerSecond[i] += t.failedPerSecond[i];
      }
    }
    this.timelines = tallies.stream().map(t -> t.timeline).toList();
  }

  static LoadReport of(
      Load load, long startNanos, List<Tally> tallies, @Nullable String abortReason) {
    return new LoadReport(load, startNanos, tallies, abortReason);
  }

  /** The spec this load ran. */
  public Load load() {
    return load;
  }

  /** Requests sent and ended, ok or failed. */
  public long requests() {
    return ok + failed();
  }

  /** Requests answered with a complete 2xx response. */
  public long ok() {
    return ok;
  }

  public long failed() {
    return failures.values().stream().mapToLong(Long::longValue).sum();
  }

  public long failed(FailureKind kind) {
    return failures.getOrDefault(kind, 0L);
  }

  /** Failures by kind, every kind present, in the enum's order. */
  public Map<FailureKind, Long> failures() {
    return failures;
  }

  /** How many complete responses had each status, 2xx included. */
  SortedMap<Integer, Long> statuses() {
    return statuses;
  }

  /**
   * How many 2xx responses had each body, by its first {@link Load#ANSWER_BYTES} bytes; empty
   * unless the load was built with {@link Load.Builder#countAnswers()}.
   */
  public SortedMap<String, Long> answers() {
    return answers;
  }

  /**
   * TCP connections opened: one per request without keep-alive, more than the concurrency with it
   * when servers close.
   */
  public long connects() {
    return connects;
  }

  /** From the start to the end of the last request. */
  Duration duration() {
    return duration;
  }

  /** Requests ended per second, ok or failed. */
  double throughput() {
    return requests() / (duration.toNanos() / 1e9);
  }

  /** The mean latency of ok requests; zero when there were none. */
  Duration latencyMean() {
    return latency.getTotalCount() == 0
        ? Duration.ZERO
        : Duration.ofNanos((long) latency.getMean());
  }

  /** The latency that {@code percentile} percent of ok requests did not exceed, e.g. 99.9. */
  Duration latencyPercentile(double percentile) {
    return Duration.ofNanos(latency.getValueAtPercentile(percentile));
  }

  Duration latencyMax() {
    return Duration.ofNanos(latency.getMaxValue());
  }

  /** A copy of the latencies of ok requests, in nanoseconds. */
  Histogram latencyHistogram() {
    return latency.copy();
  }

  /** The first few failures, in the order they happened, each with what, when and which request. */
  public List<String> failureMessages() {
    return failureMessages;
  }

  /**
   * Why the load generator gave up before the end, when it did: its own trouble, such as too few
   * file descriptors, which says nothing about the server. The counts are then partial.
   */
  Optional<String> aborted() {
    return aborted;
  }

  /** Ok requests that ended in each second of the load, for plots. */
  long[] okPerSecond() {
    return okPerSecond.clone();
  }

  /** Failed requests that ended in each second of the load. */
  long[] failedPerSecond() {
    return failedPerSecond.clone();
  }

  /**
   * How many requests the timeline holds; all of them unless {@link Load#timelineLimit()} was
   * reached.
   */
  long timelineSize() {
    return timelines.stream().mapToLong(Timeline::size).sum();
  }

  /** Requests counted but left out of the timeline because it was full. */
  long timelineDropped() {
    return timelines.stream().mapToLong(Timeline::dropped).sum();
  }

  /** Visits every request of the timeline, in no particular order. */
  public void forEachRequest(RequestVisitor visitor) {
    timelines.forEach(t -> t.forEach(visitor));
  }

  /** One paragraph: counts, failures by kind with statuses, latency percentiles. */
  public String summary() {
    var text = new StringBuilder();
    aborted.ifPresent(
        reason -> text.append("ABORTED: ").append(reason).append(". Partial counts: "));
    text.append(
        String.format(
            Locale.ROOT,
            "%,d requests in %.1f s, %,.0f req/s: %,d ok, %,d failed",
            requests(),
            duration.toNanos() / 1e9,
            throughput(),
            ok,
            failed()));
    var kinds = new ArrayList<String>();
    failures.forEach(
        (kind, count) -> {
          if (count > 0) {
            kinds.add(kind + " " + count);
          }
        });
    if (!kinds.isEmpty()) {
      text.append(" (").append(String.join(", ", kinds)).append(')');
    }
    var unusual = new ArrayList<String>();
    statuses.forEach(
        (status, count) -> {
          if (status < 200 || status >= 300) {
            unusual.add(status + " x" + count);
          }
        });
    if (!unusual.isEmpty()) {
      text.append(", statuses ").append(String.join(", ", unusual));
    }
    text.append(
        String.format(
            Locale.ROOT,
            ". Latency mean %s, p50 %s, p99 %s, p99.9 %s, max %s. %,d connections.",
            format(latencyMean()),
            format(latencyPercentile(50)),
            format(latencyPercentile(99)),
            format(latencyPercentile(99.9)),
            format(latencyMax()),
            connects));
    return text.toString();
  }

  @Override
  public String toString() {
    return summary();
  }

  private static String format(Duration latency) {
    long nanos = latency.toNanos();
    if (nanos < 1_000_000) {
      return String.format(Locale.ROOT, "%d µs", nanos / 1000);
    }
    if (nanos < 1_000_000_000) {
      return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }
    return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
  }
}
