package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * `baton bench --long-lived` as users run it, short: 200 clients through a deploy a second, with
 * the drains bounded (the claim), and unbounded (the contrast: the generations pile up).
 */
class LongLivedBenchTest {
  @TempDir Path dir;

  private JsonNode run(String kind, String seconds, String maxDraining) throws Exception {
    var out = dir.resolve("ll-" + kind + "-" + maxDraining);
    var run =
        BenchTest.baton(
            dir,
            "bench",
            "--long-lived",
            kind,
            "--clients",
            "200",
            "--duration",
            seconds,
            "--rhythm",
            "1s",
            "--drain-window",
            "10s",
            "--max-draining",
            maxDraining,
            // Shorter than a deploy here: the run is short, and its close waits out this delay for
            // the messages carried across a polite end. The reconnect peak is not judged here.
            "--reconnect-jitter",
            "2s",
            "--out",
            out.toString());
    var report = JsonMapper.builder().build().readTree(out.resolve("report.json").toFile());
    assertThat(run.exit())
        .as("exit of the run: %s", run.output())
        .isEqualTo(report.path("passes").asBoolean() ? 0 : 1);
    assertThat(report.path("error").isNull()).as("%s", run.output()).isTrue();
    assertThat(out.resolve("long-lived.png")).isNotEmptyFile();
    return report;
  }

  /**
   * Every check but the reconnects' peak passes outright, the serving bound (max_draining + 1)
   * included: a deploy hurries the oldest draining generation as it spawns, so that the hurried one
   * has exited before the promotion adds a drain.
   */
  private static void assertBounded(JsonNode report) {
    var fleet = report.path("fleet");
    for (var check : report.path("checks")) {
      var name = check.path("name").asString("");
      if (!name.startsWith("reconnects")) {
        assertThat(check.path("pass").asBoolean())
            .as("%s; per second: %s", check, perSecond(report))
            .isTrue();
      }
    }
    assertThat(fleet.path("abnormalEnds").asLong()).isZero();
    assertThat(fleet.path("failed").asLong()).isZero();
    assertThat(fleet.path("answered").asLong()).isEqualTo(fleet.path("sent").asLong()).isPositive();
    assertThat(fleet.path("reconnects").asLong()).isPositive();
    assertThat(report.path("deploys").asInt()).isPositive();
    assertThat(report.path("failedDeploys").asInt()).isZero();
    // In a 15 s run the first generation holds the whole fleet when it is hurried, and its
    // reconnects land in the two seconds of jitter: that second may pass twice the even spread.
    var reconnects = report.path("reconnects");
    assertThat(reconnects.path("peakPerSecond").asDouble())
        .as("%s; per second: %s", reconnects, perSecond(report))
        .isLessThan(3 * reconnects.path("evenPerSecond").asDouble());
    assertThat(report.path("serving").path("max").asInt()).isLessThanOrEqualTo(2 + 1);
  }

  /** "at: reconnects serving" for each second, for a failure's message. */
  private static String perSecond(JsonNode report) {
    var line = new StringBuilder();
    for (var s : report.path("seconds")) {
      line.append(
          String.format(
              java.util.Locale.ROOT,
              "%.0f: %d %d, ",
              s.path("at").asDouble(),
              s.path("reconnects").asLong(),
              s.path("serving").asInt()));
    }
    return line.toString();
  }

  @Test
  void webSocketsThroughADeployASecondStayBounded() throws Exception {
    assertBounded(run("ws", "15s", "2"));
  }

  @Test
  void h2cThroughADeployASecondStaysBounded() throws Exception {
    assertBounded(run("h2c", "15s", "2"));
  }

  @Test
  void withoutTheBoundTheDrainingGenerationsPileUp() throws Exception {
    var report = run("ws", "12s", "100");

    assertThat(report.path("serving").path("max").asInt())
        .as("%s", report.path("checks"))
        .isGreaterThan(3);
    assertThat(report.path("fleet").path("abnormalEnds").asLong()).isZero();
  }
}
