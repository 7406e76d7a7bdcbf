package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Instant rollback with the sample, which uses baton-app: at each promotion the old generation is
 * parked (alive, warm, not accepting), and {@code rollback} resumes it in milliseconds, under load,
 * without failing a request.
 */
class RollbackTest {
  @TempDir Path dir;

  @Test
  void
      twentyRollbacksUnderConnectionPerRequestLoadFailNoRequestAndResumeTheParkedGenerationInMilliseconds()
          throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      var load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
      var resumeMillis = new ArrayList<Double>();
      var roundTripMillis = new ArrayList<Double>();
      deployAndExpectTheOldOneParked(service);
      for (int i = 0; i < 20; i++) {
        int parked = service.status().path("parked").get(0).asInt();
        var events = new ArrayList<JsonNode>();
        long sent = System.nanoTime();
        var reply = service.rollback(events::add);
        roundTripMillis.add((System.nanoTime() - sent) / 1e6);
        assertThat(reply.path("ok").asBoolean()).as("rollback %d: %s", i, reply).isTrue();
        assertThat(reply.path("generation").asInt())
            .as("rollback %d went back to the parked one", i)
            .isEqualTo(parked);
        var resumed =
            events.stream().filter(e -> e.path("event").asString().equals("resumed")).findFirst();
        assertThat(resumed)
            .as("rollback %d resumed a parked generation: %s", i, events)
            .isPresent();
        resumeMillis.add(resumed.get().path("elapsed_ms").asDouble());
        Service.sleep(100);
        // A rollback parks the generation it leaves; a deploy then parks the generation we rolled
        // back to, the newest parked, so the next rollback resumes it again.
        deployAndExpectTheOldOneParked(service);
        Service.sleep(100);
      }
      LoadReport report = load.stop();
      System.out.println(
          "conn-per-request c=8, 20 rollbacks and 21 deploys of the Java sample: "
              + report.summary());
      System.out.printf(
          "rollback, command to the parked generation accepting (supervisor's 'resumed' elapsed_ms):"
              + " median %.2f ms, p99 %.2f ms, max %.2f ms; the whole control round trip: median %.2f ms, p99 %.2f ms%n",
          percentile(resumeMillis, 50),
          percentile(resumeMillis, 99),
          percentile(resumeMillis, 100),
          percentile(roundTripMillis, 50),
          percentile(roundTripMillis, 99));
      ZeroDowntimeTest.assertNoFailures(report, service);
      // The history keeps the last 20 promotions: rollbacks to generation 1 and deploys, in turn.
      var kinds =
          service
              .status()
              .path("history")
              .valueStream()
              .map(
                  h ->
                      h.path("kind").asString().equals("rollback")
                          ? "rollback to " + h.path("generation").asInt()
                          : "deploy")
              .toList();
      assertThat(kinds)
          .isEqualTo(
              IntStream.range(0, 20)
                  .mapToObj(i -> i % 2 == 0 ? "rollback to 1" : "deploy")
                  .toList());
    }
  }

  @Test
  void aRollbackWithNothingToGoBackToSaysSoAndChangesNothing() throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      var result = service.cli("rollback");

      assertThat(result.exit()).as(result.output()).isEqualTo(1);
      assertThat(result.output())
          .contains(
              "nothing to roll back to: generation 1 is the only one this supervisor has run");
      assertThat(service.status().path("active_generation").asInt()).isEqualTo(1);
    }
  }

  @Test
  void twoRollbacksAtOnceAreSerializedAndBothSucceedOneAfterTheOther() throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      var load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
      deployAndExpectTheOldOneParked(service);
      var steps = new CopyOnWriteArrayList<String>();

      var first = CompletableFuture.supplyAsync(() -> rollbackNoting(service, "A", steps));
      var second = CompletableFuture.supplyAsync(() -> rollbackNoting(service, "B", steps));
      var replies = List.of(first.join(), second.join());

      for (var reply : replies) {
        assertThat(reply.path("ok").asBoolean()).as(reply.toString()).isTrue();
      }
      // One resumed generation 1, which was parked, and parked generation 2; the other resumed
      // generation 2 in turn. Never both at once: each one's steps come as one block.
      assertThat(replies.stream().map(r -> r.path("generation").asInt()))
          .containsExactlyInAnyOrder(1, 2);
      var tags = steps.stream().map(step -> step.substring(0, 1)).toList();
      assertThat(
              IntStream.range(1, tags.size())
                  .filter(i -> !tags.get(i).equals(tags.get(i - 1)))
                  .count())
          .as("the two rollbacks' steps, in the order they came: %s", steps)
          .isEqualTo(1);
      System.out.println("two rollbacks at once, their steps in order: " + steps);
      var history = service.status().path("history");
      var kinds =
          history
              .valueStream()
              .map(h -> h.path("kind").asString() + " " + h.path("generation").asInt())
              .toList();
      assertThat(kinds).endsWith("deploy 2", "rollback 1", "rollback 2");
      LoadReport report = load.stop();
      System.out.println("conn-per-request c=8, two rollbacks at once: " + report.summary());
      assertThat(report.failed())
          .as("failed: %s %s", report.failures(), report.failureMessages())
          .isZero();
    }
  }

  private static JsonNode rollbackNoting(Service service, String tag, List<String> steps) {
    return service.rollback(
        e ->
            steps.add(tag + ":" + e.path("event").asString() + " " + e.path("generation").asInt()));
  }

  /** Deploys the config's command and checks that the generation it replaced was parked. */
  static void deployAndExpectTheOldOneParked(Service service) {
    int before = service.status().path("active_generation").asInt();
    var reply = service.deploy();
    assertThat(reply.path("ok").asBoolean()).as("deploy: %s", reply).isTrue();
    var status = service.status();
    assertThat(status.path("parked").valueStream().map(JsonNode::asInt).toList())
        .as("parked after deploying generation %d: %s", reply.path("generation").asInt(), status)
        .contains(before);
  }

  static double percentile(List<Double> values, double percentile) {
    var sorted = values.stream().sorted().toList();
    int index = (int) Math.ceil(percentile / 100 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }
}
