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
    var command =
        new ArrayList<>(
            List.of(
                Service.JAVA,
                "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC",
                "-Dbaton.home=" + Service.ROOT,
                "-cp",
                System.getProperty("java.class.path"),
                "dev.baton.cli.Main"));
    command.addAll(List.of(args));
    var process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    var output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(180, TimeUnit.SECONDS))
        .as("baton %s ended", String.join(" ", args))
        .isTrue();
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
    assertThat(baton.path("error").isNull())
        .as("baton scenario error: %s\n%s", baton.path("error"), run.output())
        .isTrue();
    assertThat(load.path("failed").asLong()).as("baton: %s", load).isZero();
    assertThat(load.path("requests").asLong()).as("baton requests").isGreaterThan(1000);
    // On a quiet machine the short load sees 10 or more; a busy one may fit only a couple of JVM
    // starts.
    assertThat(load.path("reloads").asInt()).as("deploys during the load").isPositive();
    assertThat(load.path("failedReloads").asInt()).isZero();
    assertThat(baton.path("reloadTimingsMs").path("promoted").path("median").asDouble())
        .isPositive();
    assertThat(baton.path("supervisor").path("peakRssBytes").asLong()).isPositive();

    var stopStart = scenario(report, "stop-start");
    assertThat(stopStart.path("failed").asLong())
        .as("the negative control must see failures: %s", stopStart)
        .isPositive();
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
    assertThat(baton.path("error").isNull())
        .as("baton scenario error: %s\n%s", baton.path("error"), run.output())
        .isTrue();
    assertThat(load.path("failed").asLong()).as("baton: %s", load).isZero();
    // 4 s at a reload every 100 ms: what counts here is that the load saw deploys, not how many
    // (that is the benchmark's to measure): a CI run on a loaded machine made 9.
    assertThat(load.path("reloads").asInt())
        .as("deploys during the load")
        .isGreaterThanOrEqualTo(5);
    assertThat(load.path("failedReloads").asInt()).isZero();
    assertThat(scenario(report, "stop-start").path("failed").asLong())
        .as("the negative control")
        .isPositive();
    var reusePort = scenario(report, "reuseport");
    assertThat(reusePort.path("error").isNull())
        .as("reuseport: %s", reusePort.path("error"))
        .isTrue();
    assertThat(reusePort.path("loads").get(0).path("reloads").asInt()).isGreaterThanOrEqualTo(10);
    assertThat(run.exit()).as(run.output()).isZero();
  }

  /**
   * No timing is asserted: on a shared machine any ratio may come out anywhere; that it is there is
   * what holds.
   */
  @Test
  void theSteadyModeMeasuresEveryServerUnderEveryLoadAndEndsThemAll() throws Exception {
    var out = dir.resolve("steady");
    var run =
        baton(dir, "bench", "--steady", "--short", "--sample", "light", "--out", out.toString());
    var report = JsonMapper.builder().build().readTree(out.resolve("report.json").toFile());
    assertThat(report.path("mode").asString()).isEqualTo("steady");
    assertThat(report.path("error").isNull())
        .as("error: %s\n%s", report.path("error"), run.output())
        .isTrue();
    assertThat(report.path("failed").asLong()).as(run.output()).isZero();

    var loads = report.path("loads");
    assertThat(loads).hasSize(3);
    for (var load : loads) {
      assertThat(load.path("rounds").asInt()).as("%s", load.path("load")).isEqualTo(3);
      for (var role : List.of("bareA", "bareA2", "parent", "parentSetsid", "baton")) {
        var server = load.path("servers").path(role);
        assertThat(server.path("failed").asLong()).as("%s %s", load.path("load"), role).isZero();
        assertThat(server.path("requests").asLong())
            .as("%s %s", load.path("load"), role)
            .isPositive();
        assertThat(server.path("perSecondByRound"))
            .hasSize(3)
            .allSatisfy(v -> assertThat(v.asDouble()).isPositive());
      }
      for (var ratio :
          List.of(
              "control",
              "parentOverBare",
              "sessionOverParent",
              "batonOverParent",
              "batonOverBare")) {
        var r = load.path("ratios").path(ratio);
        assertThat(r.path("n").asInt()).as("%s %s", load.path("load"), ratio).isEqualTo(3);
        for (var field : List.of("median", "q1", "q3")) {
          assertThat(r.path(field).asDouble())
              .as("%s %s %s", load.path("load"), ratio, field)
              .isPositive();
        }
      }
    }

    // Placed alike: the bare copies and the plain parent's child in bench's session; setsid's child
    // in its own.
    long benchSession = report.path("bench").path("sid").asLong();
    var apps = new java.util.HashMap<String, JsonNode>();
    for (var server : report.path("servers")) {
      apps.put(server.path("role").asString(), server.path("app"));
    }
    for (var role : List.of("bareA", "bareA2", "parent")) {
      assertThat(apps.get(role).path("sid").asLong()).as(role).isEqualTo(benchSession);
      assertThat(apps.get(role).path("pgid").asLong())
          .as(role)
          .isNotEqualTo(report.path("bench").path("pgid").asLong());
    }
    assertThat(apps.get("parentSetsid").path("sid").asLong())
        .isEqualTo(apps.get("parentSetsid").path("pid").asLong());
    for (var app : apps.values()) {
      assertThat(ProcessHandle.of(app.path("pid").asLong()).filter(ProcessHandle::isAlive))
          .as("%s outlived the run", app)
          .isEmpty();
    }
    assertThat(out.resolve("steady-table.md")).content().contains("baton/parent");
    assertThat(run.output()).contains("A'/A").contains("baton/parent");
    assertThat(run.exit()).as(run.output()).isZero();
  }

  @Test
  void theShortDemoExitsZeroAndReportsNoFailedRequest() throws Exception {
    var run = baton(dir, "demo", "--short");
    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(run.output())
        .contains("5 deploys (0 failed)")
        .containsPattern("requests, 0 failed")
        .contains("Not one request failed");
  }

  @Test
  void badInputIsRefusedBeforeAnyLoadStarts() throws Exception {
    var unknown = baton(dir, "bench", "--scenarios", "none,blue-green");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.output()).contains("unknown scenario 'blue-green'");

    var steadyScenarios = baton(dir, "bench", "--steady", "--scenarios", "none");
    assertThat(steadyScenarios.exit()).isEqualTo(2);
    assertThat(steadyScenarios.output()).contains("--steady does not take --scenarios");

    var roundsAlone = baton(dir, "bench", "--rounds", "10");
    assertThat(roundsAlone.exit()).isEqualTo(2);
    assertThat(roundsAlone.output())
        .contains("--rounds, --slice, --placement and --load-threads are for --steady");

    var sample = baton(dir, "bench", "--sample", "go");
    assertThat(sample.exit()).isEqualTo(2);
    assertThat(sample.output()).contains("unknown sample 'go'; use one of jvm, light");

    var zero = baton(dir, "bench", "--duration", "0");
    assertThat(zero.exit()).isEqualTo(2);
    assertThat(zero.output()).contains("--duration must be more than 0");

    var tooMany = baton(dir, "bench", "--short", "--concurrency", "100000000");
    assertThat(tooMany.exit()).isEqualTo(2);
    assertThat(tooMany.output()).contains("ulimit -n");

    Files.writeString(
        dir.resolve("baton.toml"),
        """
        [app]
        command = ["true"]
        [[listen]]
        address = "127.0.0.1:0"
        """);
    var notRunning = baton(dir, "bench", "-c", dir.resolve("baton.toml").toString());
    assertThat(notRunning.exit()).isEqualTo(2);
    assertThat(notRunning.output()).contains("no supervisor");
    assertThat(Files.exists(dir.resolve("baton-bench-report")))
        .as("no output for a run that never started")
        .isFalse();
  }
}
