package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * `baton bench --short` and `baton demo --short` as users run them, in their own JVMs: the claim
 * (baton fails no request) and the negative control (stop-start fails some, so the load can see
 * failures), read from the report's JSON.
 */
class BenchTest {
  @TempDir Path dir;

  record Run(int exit, String output) {}

  static Run baton(Path dir, String... args) throws IOException, InterruptedException {
    var command = new ArrayList<>(List.of(Service.JAVA, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
        "-Dbaton.home=" + Service.ROOT, "-cp", System.getProperty("java.class.path"), "dev.baton.cli.Main"));
    command.addAll(List.of(args));
    var process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    var output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(180, TimeUnit.SECONDS)).as("baton %s ended", String.join(" ", args)).isTrue();
    return new Run(process.exitValue(), output);
  }

  static JsonNode scenario(JsonNode report, String name) {
    for (var s : report.path("scenarios")) {
      if (s.path("scenario").asString("").equals(name)) {
        return s;
      }
    }
    throw new AssertionError("no scenario " + name + " in " + report);
  }

  @Test
  void theShortBenchFailsNoRequestUnderBatonAndSomeUnderStopStart() throws Exception {
    var out = dir.resolve("report");
    var run = baton(dir, "bench", "--short", "--out", out.toString());
    var report = JsonMapper.builder().build().readTree(out.resolve("report.json").toFile());

    var baton = scenario(report, "baton");
    var load = baton.path("loads").get(0);
    assertThat(baton.path("error").isNull()).as("baton scenario error: %s\n%s", baton.path("error"), run.output()).isTrue();
    assertThat(load.path("failed").asLong()).as("baton: %s", load).isZero();
    assertThat(load.path("requests").asLong()).as("baton requests").isGreaterThan(1000);
    // On a quiet machine the short load sees 10 or more; a busy one may fit only a couple of JVM starts.
    assertThat(load.path("reloads").asInt()).as("deploys during the load").isPositive();
    assertThat(load.path("failedReloads").asInt()).isZero();
    assertThat(baton.path("reloadTimingsMs").path("promoted").path("median").asDouble()).isPositive();
    assertThat(baton.path("supervisor").path("peakRssBytes").asLong()).isPositive();

    var stopStart = scenario(report, "stop-start");
    assertThat(stopStart.path("failed").asLong()).as("the negative control must see failures: %s", stopStart).isPositive();
    assertThat(scenario(report, "none").path("failed").asLong()).as("the baseline").isZero();

    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(out.resolve(load.path("plot").asString())).isRegularFile();
    assertThat(run.output()).contains("Against the baseline (none)");
  }

  @Test
  void theLightSampleIsReplacedAtTheRhythmWithNoFailedRequestUnderBaton() throws Exception {
    var out = dir.resolve("report");
    var run = baton(dir, "bench", "--short", "--sample", "light", "--out", out.toString());
    var report = JsonMapper.builder().build().readTree(out.resolve("report.json").toFile());
    assertThat(report.path("plan").path("sample").asString()).isEqualTo("light");

    var baton = scenario(report, "baton");
    var load = baton.path("loads").get(0);
    assertThat(baton.path("error").isNull()).as("baton scenario error: %s\n%s", baton.path("error"), run.output()).isTrue();
    assertThat(load.path("failed").asLong()).as("baton: %s", load).isZero();
    // 4 s at a reload every 100 ms: a sample that starts in milliseconds keeps the rhythm, or nearly.
    assertThat(load.path("reloads").asInt()).as("deploys during the load").isGreaterThanOrEqualTo(10);
    assertThat(load.path("failedReloads").asInt()).isZero();
    assertThat(scenario(report, "stop-start").path("failed").asLong()).as("the negative control").isPositive();
    var reusePort = scenario(report, "reuseport");
    assertThat(reusePort.path("error").isNull()).as("reuseport: %s", reusePort.path("error")).isTrue();
    assertThat(reusePort.path("loads").get(0).path("reloads").asInt()).isGreaterThanOrEqualTo(10);
    assertThat(run.exit()).as(run.output()).isZero();
  }

  @Test
  void theShortDemoExitsZeroAndReportsNoFailedRequest() throws Exception {
    var run = baton(dir, "demo", "--short");
    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(run.output()).contains("5 deploys (0 failed)").containsPattern("requests, 0 failed")
        .contains("Not one request failed");
  }

  @Test
  void badInputIsRefusedBeforeAnyLoadStarts() throws Exception {
    var unknown = baton(dir, "bench", "--scenarios", "none,blue-green");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.output()).contains("unknown scenario 'blue-green'");

    var sample = baton(dir, "bench", "--sample", "go");
    assertThat(sample.exit()).isEqualTo(2);
    assertThat(sample.output()).contains("unknown sample 'go'; use one of jvm, light");

    var zero = baton(dir, "bench", "--duration", "0");
    assertThat(zero.exit()).isEqualTo(2);
    assertThat(zero.output()).contains("--duration must be more than 0");

    var tooMany = baton(dir, "bench", "--short", "--concurrency", "100000000");
    assertThat(tooMany.exit()).isEqualTo(2);
    assertThat(tooMany.output()).contains("ulimit -n");

    Files.writeString(dir.resolve("baton.toml"), """
        [app]
        command = ["true"]
        [[listen]]
        address = "127.0.0.1:0"
        """);
    var notRunning = baton(dir, "bench", "-c", dir.resolve("baton.toml").toString());
    assertThat(notRunning.exit()).isEqualTo(2);
    assertThat(notRunning.output()).contains("no supervisor");
    assertThat(Files.exists(dir.resolve("baton-bench-report"))).as("no output for a run that never started").isFalse();
  }
}
