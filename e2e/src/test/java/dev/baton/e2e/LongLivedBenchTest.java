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

  private JsonNode run(String kind, String seconds, String maxDraining, int exit) throws Exception {
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
            "--out",
            out.toString());
    var report = JsonMapper.builder().build().readTree(out.resolve("report.json").toFile());
    assertThat(run.exit()).as("exit of the run: %s", run.output()).isEqualTo(exit);
    assertThat(out.resolve("long-lived.png")).isNotEmptyFile();
    return report;
  }

  private static void assertBounded(JsonNode report) {
    var fleet = report.path("fleet");
    assertThat(report.path("passes").asBoolean()).as("%s", report.path("checks")).isTrue();
    assertThat(fleet.path("abnormalEnds").asLong()).isZero();
    assertThat(fleet.path("failed").asLong()).isZero();
    assertThat(fleet.path("answered").asLong()).isEqualTo(fleet.path("sent").asLong()).isPositive();
    assertThat(fleet.path("reconnects").asLong()).isPositive();
    assertThat(report.path("deploys").asInt()).isPositive();
    assertThat(report.path("serving").path("max").asInt()).isLessThanOrEqualTo(3);
  }

  @Test
  void webSocketsThroughADeployASecondStayBounded() throws Exception {
    assertBounded(run("ws", "20s", "2", 0));
  }

  @Test
  void h2cThroughADeployASecondStaysBounded() throws Exception {
    assertBounded(run("h2c", "20s", "2", 0));
  }

  @Test
  void withoutTheBoundTheDrainingGenerationsPileUp() throws Exception {
    var report = run("ws", "15s", "100", 1);

    assertThat(report.path("serving").path("max").asInt())
        .as("%s", report.path("checks"))
        .isGreaterThan(3);
    assertThat(report.path("fleet").path("abnormalEnds").asLong()).isZero();
  }
}
