package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.Load;
import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The mission: redeploying under load loses zero requests. Real `baton run`, real generations, real
 * sockets, real load; the count of failed requests is asserted exactly.
 *
 * <p>The keep-alive run of the Java sample and the gunicorn run each run twice: on the one shared
 * listening socket (steer = "shared", the default, the config as it has always been) and steered by
 * BPF (steer = "bpf", see SteerTest), the same deploys under the same load.
 */
class ZeroDowntimeTest {
  @TempDir Path dir;

  static Load.Builder load(int port) {
    return Load.to(new InetSocketAddress("127.0.0.1", port))
        .duration(Duration.ofMinutes(5))
        .timeout(Duration.ofSeconds(10));
  }

  /** GET / with a new connection per request from {@code connections} clients, started. */
  static LoadGenerator connectionPerRequest(int port, int connections) {
    return LoadGenerator.start(
        load(port).connectionPerRequest().get("/").connections(connections).build());
  }

  /** Deploys {@code times} times, each promotion at least {@code gapMillis} after the last. */
  static void redeploy(Service service, int times, long gapMillis) {
    for (int i = 0; i < times; i++) {
      var reply = service.deploy();
      assertThat(reply.path("ok").asBoolean()).as("deploy %d: %s\n%s", i, reply, "").isTrue();
      Service.sleep(gapMillis);
    }
  }

  static void assertNoFailures(LoadReport report, Service service) {
    assertThat(report.failed())
        .as("failed requests: %s; first failures: %s", report.failures(), report.failureMessages())
        .isZero();
    assertThat(report.requests()).as("requests served").isGreaterThan(1000);
  }

  @Test
  void fiftyRedeploysOfTheJavaSampleUnderConnectionPerRequestLoadFailNoRequest() throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      var load =
          LoadGenerator.start(
              load(service.port()).connectionPerRequest().get("/").connections(8).build());
      redeploy(service, 50, 100);
      var report = load.stop();
      System.out.println("conn-per-request, 50 redeploys of the Java sample: " + report.summary());
      assertNoFailures(report, service);
      assertThat(service.status().path("active_generation").asInt()).isEqualTo(51);
    }
  }

  @ParameterizedTest(name = "steer = {0}")
  @ValueSource(strings = {"shared", "bpf"})
  void redeploysUnderKeepAliveLoadWithPostsFailNoRequest(String steer) throws Exception {
    try (var service = Service.start(dir, SteerTest.steered(Service.sampleConfig(), steer))) {
      SteerTest.assertSteer(service.status(), steer);
      var body = "x".repeat(1024).getBytes(StandardCharsets.US_ASCII);
      var gets =
          LoadGenerator.start(load(service.port()).keepAlive().get("/").connections(12).build());
      var posts =
          LoadGenerator.start(
              load(service.port()).keepAlive().post("/items", body).connections(4).build());
      redeploy(service, 20, 150);
      var getReport = gets.stop();
      var postReport = posts.stop();
      System.out.println(
          "steer=" + steer + ", keep-alive GET, 20 redeploys: " + getReport.summary());
      System.out.println(
          "steer=" + steer + ", keep-alive POST, 20 redeploys: " + postReport.summary());
      assertNoFailures(getReport, service);
      assertNoFailures(postReport, service);
      var status = service.status();
      assertThat(status.path("active_generation").asInt()).isEqualTo(21);
      SteerTest.assertSteer(status, steer);
    }
  }

  @ParameterizedTest(name = "steer = {0}")
  @ValueSource(strings = {"shared", "bpf"})
  void anUnmodifiedGunicornAppIsRedeployedUnderLoadWithNoFailure(String steer) throws Exception {
    var gunicorn = Path.of("/usr/bin/gunicorn");
    assertThat(gunicorn)
        .as("gunicorn is installed by .ci/run (apt-get install gunicorn)")
        .isExecutable();
    try (var in = getClass().getResourceAsStream("/wsgi_app.py")) {
      Files.write(dir.resolve("wsgi_app.py"), in.readAllBytes());
    }
    var config =
        """
        [app]
        command = %s

        [[listen]]
        name = "http"
        address = "127.0.0.1:0"

        [readiness]
        notify = true
        timeout = "20s"
        """
            .formatted(
                Service.toml(
                    List.of(
                        gunicorn.toString(),
                        "--workers",
                        "2",
                        "--graceful-timeout",
                        "10",
                        "--chdir",
                        dir.toString(),
                        "wsgi_app:app")));
    try (var service = Service.start(dir, SteerTest.steered(config, steer))) {
      SteerTest.assertSteer(service.status(), steer);
      var load =
          LoadGenerator.start(
              load(service.port()).connectionPerRequest().get("/").connections(8).build());
      redeploy(service, 20, 100);
      var report = load.stop();
      System.out.println(
          "steer=" + steer + ", conn-per-request, 20 redeploys of gunicorn: " + report.summary());
      assertNoFailures(report, service);
      assertThat(service.logText()).contains("READY=1 on NOTIFY_SOCKET");
      var status = service.status();
      assertThat(status.path("active_generation").asInt()).isEqualTo(21);
      SteerTest.assertSteer(status, steer);
    }
  }
}
