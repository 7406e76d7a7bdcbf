package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JVM warm-up before promotion, measured: the same JIT-sensitive sample ({@code --work-cpu}, real
 * computation per request that the JIT makes many times faster) deployed with and without {@code
 * [warmup]}, side by side in one run, under the same paced connection-per-request load. Each round
 * deploys a fresh JVM to each service, in turn, and keeps the latencies of the requests that start
 * in the first 5 s after its promotion; the rounds are pooled per service.
 *
 * <p>A cold sample here takes about 200 ms for its first request, 25 ms for the next, then 2 to 5
 * ms each until some 400 requests have run, and 0.3 to 0.5 ms from then on.
 */
class WarmUpTest {
  @TempDir Path coldDir;
  @TempDir Path warmDir;

  /** Units of --work-cpu: about 0.3 ms compiled, many times that interpreted. */
  private static final String WORK = "--work-cpu=" + System.getProperty("warmup.work", "1000");

  private static final long WINDOW_MICROS = 5_000_000;

  private static final int ROUNDS = Integer.getInteger("warmup.rounds", 3);

  /** Each connection's pause between requests: the load leaves CPU to spare, as production does. */
  private static final long PAUSE_MILLIS = Long.getLong("warmup.pause", 5);

  @Test
  void warmUpBeforePromotionCutsTheLatencyOfTheFirstFiveSecondsAfterPromotion() throws Exception {
    var warmup =
        """
        [warmup]
        urls = ["/"]
        requests = 5000
        duration = "20s"
        concurrency = 2
        """;
    try (var cold = Service.start(coldDir, config(""));
        var warm = Service.start(warmDir, config(warmup))) {
      var coldLatencies = new ArrayList<Long>();
      var warmLatencies = new ArrayList<Long>();
      // Alternated, so that whatever else the machine does weighs on both alike.
      for (int round = 0; round < ROUNDS; round++) {
        coldLatencies.addAll(firstSecondsAfterPromotion(cold, "without warm-up", round));
        warmLatencies.addAll(firstSecondsAfterPromotion(warm, "with warm-up   ", round));
      }
      var without = new Latencies(coldLatencies);
      var with = new Latencies(warmLatencies);
      System.out.printf(
          "warm-up (--work-cpu, %d rounds pooled), the first 5 s after promotion:%n"
              + "  without [warmup]: %s%n  with [warmup]:    %s%n  p99 ratio %.1fx, mean ratio %.1fx%n",
          ROUNDS,
          without,
          with,
          without.percentile(99) / with.percentile(99),
          without.mean() / with.mean());
      // The mean, not the p99, is asserted: on a shared machine a few scheduling delays of others'
      // making can rule a p99 on either side, while the cold JIT's cost shows in every early
      // request.
      assertThat(with.mean())
          .as("mean latency with warm-up, against %s without", without)
          .isLessThan(without.mean());
    }
  }

  private static String config(String extra) {
    // Full tiered compilation (the other tests stop at C1 to start fast): what production runs.
    var command =
        Service.toml(
            List.of(
                Service.JAVA,
                "-XX:+UseSerialGC",
                "-XX:-UsePerfData",
                "-jar",
                Service.SAMPLE_JAR.toString(),
                WORK));
    return Service.sampleConfig(extra)
        .replaceFirst("command = .*", Matcher.quoteReplacement("command = " + command));
  }

  /**
   * Deploys under load; returns the latencies in µs of the requests started in the 5 s after
   * promotion.
   */
  private static List<Long> firstSecondsAfterPromotion(Service service, String label, int round) {
    // Paced, so that latency shows each request's own cost, which is what the JIT changes, rather
    // than time spent queueing behind others.
    var load =
        LoadGenerator.start(
            ZeroDowntimeTest.load(service.port())
                .connectionPerRequest()
                .get("/")
                .connections(4)
                .pause(Duration.ofMillis(PAUSE_MILLIS))
                .build());
    var promotedMicros = new AtomicLong(-1);
    var events = new ArrayList<String>();
    Service.sleep(300);
    var reply =
        service.call(
            "deploy",
            event -> {
              if (event.path("event").asString().equals("promoted")) {
                promotedMicros.set((System.nanoTime() - load.startNanos()) / 1000);
              }
              events.add(event.path("event").asString() + " " + event.path("detail").asString());
            });
    assertThat(reply.path("ok").asBoolean()).as(reply.toString()).isTrue();
    Service.sleep(WINDOW_MICROS / 1000 + 500);
    LoadReport report = load.stop();
    assertThat(report.failed())
        .as("failed: %s %s", report.failures(), report.failureMessages())
        .isZero();

    var latencies = new ArrayList<Long>();
    var bySecond = new ArrayList<List<Long>>();
    for (int i = 0; i < WINDOW_MICROS / 1_000_000; i++) {
      bySecond.add(new ArrayList<>());
    }
    long from = promotedMicros.get();
    report.forEachRequest(
        (startMicros, latencyMicros, failure) -> {
          if (startMicros >= from && startMicros < from + WINDOW_MICROS) {
            latencies.add(latencyMicros);
            bySecond.get((int) ((startMicros - from) / 1_000_000)).add(latencyMicros);
          }
        });
    System.out.printf(
        "round %d %s: %s; p99 by second %s%s%n",
        round,
        label,
        new Latencies(latencies),
        bySecond.stream()
            .map(l -> l.isEmpty() ? "-" : String.format("%.1f", new Latencies(l).percentile(99)))
            .toList(),
        events.stream()
            .filter(e -> e.startsWith("warmed"))
            .map(e -> "; " + e)
            .findFirst()
            .orElse(""));
    return latencies;
  }

  /** Latencies in µs, shown in ms. */
  private record Latencies(List<Long> sorted) {
    Latencies {
      sorted = sorted.stream().sorted().toList();
    }

    double percentile(double percentile) {
      return sorted.get(Math.max(0, (int) Math.ceil(percentile / 100 * sorted.size()) - 1))
          / 1000.0;
    }

    double mean() {
      return sorted.stream().mapToLong(Long::longValue).average().orElseThrow() / 1000.0;
    }

    @Override
    public String toString() {
      return String.format(
          "%d requests, mean %.2f ms, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms",
          sorted.size(),
          mean(),
          percentile(50),
          percentile(90),
          percentile(99),
          sorted.getLast() / 1000.0);
    }
  }
}
