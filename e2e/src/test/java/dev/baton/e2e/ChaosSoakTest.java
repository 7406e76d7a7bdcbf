package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadGenerator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load keeps running while random things happen to the service: deploys, rollbacks, a new version
 * that crashes, one that hangs, a supervisor killed with SIGKILL and restarted, an upgrade. Not one
 * request may fail. Bounded by {@code -Dbaton.soak.seconds} (60 by default; as long as you like by
 * hand) and reproducible by {@code -Dbaton.soak.seed}.
 */
class ChaosSoakTest {
  @TempDir Path dir;

  private static List<String> sample(String... args) {
    var argv =
        new ArrayList<>(
            List.of(
                Service.JAVA,
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-jar",
                Service.SAMPLE_JAR.toString()));
    argv.addAll(List.of(args));
    return argv;
  }

  @Test
  void randomDeploysRollbacksCrashesHangsKillsAndUpgradesUnderLoadFailNoRequest() throws Exception {
    long seconds = Long.getLong("baton.soak.seconds", 60);
    long seed = Long.getLong("baton.soak.seed", System.nanoTime());
    var random = new Random(seed);
    System.out.println("chaos soak: " + seconds + " s, seed " + seed);
    var config = Service.sampleConfig().replace("timeout = \"20s\"", "timeout = \"3s\"");
    var service = Service.start(dir, config);
    var body = "y".repeat(512).getBytes(StandardCharsets.US_ASCII);
    var gets = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
    var posts =
        LoadGenerator.start(
            ZeroDowntimeTest.load(service.port())
                .keepAlive()
                .post("/soak", body)
                .connections(4)
                .build());
    Map<String, Integer> actions = new LinkedHashMap<>();
    var supervisors = new ArrayList<Service>(List.of(service));
    try {
      long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
      while (System.nanoTime() < end) {
        var action =
            switch (random.nextInt(10)) {
              case 0, 1, 2 -> "deploy";
              case 3, 4 -> "rollback";
              case 5 -> "crashing version";
              case 6 -> "hanging version";
              case 7 -> "supervisor kill -9";
              case 8 -> "upgrade";
              default -> "pause";
            };
        actions.merge(action, 1, Integer::sum);
        switch (action) {
          case "deploy" -> {
            var reply = service.deploy();
            assertThat(reply.path("ok").asBoolean()).as(reply.toString()).isTrue();
          }
          case "rollback" -> {
            var reply = service.call("rollback", e -> {});
            if (!reply.path("ok").asBoolean()) {
              // Right after a restart of the supervisor there is no history to go back to.
              assertThat(reply.path("error").asString())
                  .as(reply.toString())
                  .startsWith("nothing to roll back to");
            }
          }
          case "crashing version" -> {
            var reply = service.deploy(sample("--exit-at-start=1"));
            assertThat(reply.path("error").asString())
                .as(reply.toString())
                .contains("exited with status 1 before it was ready");
          }
          case "hanging version" -> {
            var reply = service.deploy(sample("--hang"));
            assertThat(reply.path("error").asString())
                .as(reply.toString())
                .contains("was not ready within 3000 ms");
          }
          case "supervisor kill -9" -> {
            service.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            Service.sleep(200 + random.nextInt(800));
            service = Service.start(dir, config);
            supervisors.add(service);
          }
          case "upgrade" -> {
            assertThat(service.call("upgrade", e -> {}).path("ok").asBoolean()).isTrue();
            service.awaitActive(Duration.ofSeconds(30));
          }
          default -> Service.sleep(300);
        }
      }
      var getReport = gets.stop();
      var postReport = posts.stop();
      System.out.println("chaos soak actions: " + actions);
      System.out.println("chaos soak GET: " + getReport.summary());
      System.out.println("chaos soak POST: " + postReport.summary());
      assertThat(getReport.failed())
          .as("seed %d: %s %s", seed, getReport.failures(), getReport.failureMessages())
          .isZero();
      assertThat(postReport.failed())
          .as("seed %d: %s %s", seed, postReport.failures(), postReport.failureMessages())
          .isZero();
      assertThat(getReport.ok() + postReport.ok()).isGreaterThan(10_000);
    } finally {
      gets.close();
      posts.close();
      for (var s : supervisors.reversed()) {
        s.close();
      }
    }
  }
}
