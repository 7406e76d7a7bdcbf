package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.FailureKind;
import dev.baton.bench.LoadReport;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A bad new version never reaches users: one that is unhealthy from the start is never promoted,
 * and one that turns bad after its promotion is rolled back by the bake, on its own, within the
 * probe interval.
 */
class BadVersionTest {
  @TempDir Path dir;

  @Test
  void aVersionWhoseHealthAnswers500IsNeverPromotedAndNoRequestFails() throws Exception {
    var config = Service.sampleConfig().replace("timeout = \"20s\"", "timeout = \"4s\"");
    try (var service = Service.start(dir, config)) {
      var load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
      Service.sleep(500);

      var reply = service.deploy(Service.sampleArgv("--health=fail"));
      Service.sleep(1000);
      LoadReport report = load.stop();

      System.out.println(
          "conn-per-request c=8, a deploy whose /healthz answers 500: " + report.summary());
      assertThat(reply.path("ok").asBoolean()).as(reply.toString()).isFalse();
      assertThat(reply.path("error").asString())
          .contains("generation 2")
          .contains("was not ready within 4000 ms")
          .contains("last probe answered 500");
      assertThat(report.failed())
          .as("failed: %s %s", report.failures(), report.failureMessages())
          .isZero();
      assertThat(report.ok()).isGreaterThan(100);
      var status = service.status();
      assertThat(status.path("active_generation").asInt()).isEqualTo(1);
      assertThat(generation(status, 2).path("promoted").isNull())
          .as("generation 2 promoted")
          .isTrue();
      // It started paused and was never resumed: not one public connection reached it.
      var log = service.logText();
      assertThat(log)
          .containsPattern(
              "generation 2 pid \\d+ listening on .*paused until the supervisor resumes it");
      assertThat(log).doesNotContainPattern("generation 2 pid \\d+ resumed");
    }
  }

  @Test
  void aVersionThatTurnsBadAfterPromotionIsRolledBackOnItsOwnWithinTheProbeInterval()
      throws Exception {
    var bake =
        """
        [bake]
        duration = "30s"
        interval = "1s"
        failures = 1
        """;
    try (var service = Service.start(dir, Service.sampleConfig(bake))) {
      var load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
      // The load's clock against the wall clock the supervisor's history uses.
      var loadStart = Instant.now().minusNanos(System.nanoTime() - load.startNanos());

      var reply = service.deploy(Service.sampleArgv("--fail-after=5s"));
      assertThat(reply.path("ok").asBoolean()).as(reply.toString()).isTrue();
      var rollback = awaitRollback(service, Duration.ofSeconds(20));
      Service.sleep(1000);
      LoadReport report = load.stop();

      var status = service.status();
      var promoted = Instant.parse(generation(status, 2).path("promoted").asString());
      var turnedBad = promoted.plusSeconds(5);
      var rolledBack = Instant.parse(rollback.path("at").asString());
      var window = Duration.between(turnedBad, rolledBack);
      var inWindow = new AtomicLong();
      var outside = new AtomicLong();
      var firstFailure = new AtomicLong(Long.MAX_VALUE);
      var lastFailure = new AtomicLong(Long.MIN_VALUE);
      report.forEachRequest(
          (startMicros, latencyMicros, failure) -> {
            if (failure != null) {
              firstFailure.accumulateAndGet(startMicros, Math::min);
              lastFailure.accumulateAndGet(startMicros + latencyMicros, Math::max);
              var at = loadStart.plusNanos(startMicros * 1000);
              // 100 ms either side: the two clocks are matched to a few ms, and answers take a
              // while.
              (at.isAfter(turnedBad.minusMillis(100)) && at.isBefore(rolledBack.plusMillis(100))
                      ? inWindow
                      : outside)
                  .incrementAndGet();
            }
          });
      System.out.println(
          "conn-per-request c=8, a version that turns bad 5 s after promotion, [bake] interval 1s: "
              + report.summary());
      System.out.printf(
          "automatic rollback %d ms after the version turned bad; %d requests failed in that window"
              + " (answered 500 by the bad version), %d outside it; clients saw failures for %d ms; reason: %s%n",
          window.toMillis(),
          inWindow.get(),
          outside.get(),
          report.failed() == 0 ? 0 : (lastFailure.get() - firstFailure.get()) / 1000,
          rollback.path("reason").asString());

      assertThat(rollback.path("generation").asInt()).isEqualTo(1);
      assertThat(rollback.path("replaced").asInt()).isEqualTo(2);
      assertThat(rollback.path("reason").asString())
          .startsWith("bake failed: GET /healthz on generation 2")
          .contains("answered 500 1 time(s) in a row");
      assertThat(window)
          .as("from turning bad to the rollback")
          .isLessThan(Duration.ofMillis(1000 + 500));
      assertThat(outside.get()).as("failed requests outside the bad window").isZero();
      assertThat(report.failed(FailureKind.NON_2XX))
          .as("failed requests that were answered 500, of %s", report.failures())
          .isEqualTo(report.failed());
      assertThat(status.path("active_generation").asInt()).isEqualTo(1);
      assertThat(generation(status, 2).path("reason").asString())
          .startsWith("rolled back: bake failed");
    }
  }

  private static JsonNode awaitRollback(Service service, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      var rollback =
          service
              .status()
              .path("history")
              .valueStream()
              .filter(h -> h.path("kind").asString().equals("rollback"))
              .findFirst();
      if (rollback.isPresent()) {
        return rollback.get();
      }
      Service.sleep(100);
    }
    throw new AssertionError("no automatic rollback within " + timeout + ":\n" + service.logText());
  }

  static JsonNode generation(JsonNode status, int number) {
    return status
        .path("generations")
        .valueStream()
        .filter(g -> g.path("number").asInt() == number)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no generation " + number + " in " + status));
  }
}
