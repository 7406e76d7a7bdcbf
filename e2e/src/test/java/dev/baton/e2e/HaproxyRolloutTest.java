package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.Load;
import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Fleet rollouts behind a real HAProxy 2.6, under real load of GETs and POSTs with bodies: three
 * supervisors, `baton rollout` to a new version and back with no failed request; the seed's plain
 * restarts, which do fail requests, as the negative control; and a canary that answers 5xx, caught
 * and rolled back while few requests fail.
 */
class HaproxyRolloutTest {
  @TempDir Path dir;

  /** The sample, in a version that differs from the config's by one harmless flag. */
  static List<String> sampleV2() {
    return List.of(
        Service.JAVA,
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "-Xss512k",
        "-XX:-UsePerfData",
        "-jar",
        Service.SAMPLE_JAR.toString(),
        "--drain-timeout=25s");
  }

  /**
   * GETs, a new connection each, and POSTs with a 2 KiB body on keep-alive connections, through
   * HAProxy.
   */
  record MixedLoad(LoadGenerator gets, LoadGenerator posts) {
    static MixedLoad start(int port) {
      var target = new InetSocketAddress("127.0.0.1", port);
      var body = "p".repeat(2048).getBytes(StandardCharsets.US_ASCII);
      return new MixedLoad(
          LoadGenerator.start(
              Load.to(target)
                  .connectionPerRequest()
                  .get("/")
                  .connections(4)
                  .duration(Duration.ofMinutes(3))
                  .requests(3_000_000)
                  .timeout(Duration.ofSeconds(10))
                  .build()),
          LoadGenerator.start(
              Load.to(target)
                  .keepAlive()
                  .post("/items", body)
                  .connections(4)
                  .duration(Duration.ofMinutes(3))
                  .requests(3_000_000)
                  .timeout(Duration.ofSeconds(10))
                  .build()));
    }

    List<LoadReport> stop() {
      return List.of(gets.stop(), posts.stop());
    }
  }

  static long failed(List<LoadReport> reports) {
    return reports.stream().mapToLong(LoadReport::failed).sum();
  }

  static long requests(List<LoadReport> reports) {
    return reports.stream().mapToLong(LoadReport::requests).sum();
  }

  static String describe(List<LoadReport> reports) {
    return reports.stream()
        .map(
            r ->
                r.load().method()
                    + ": "
                    + r.summary()
                    + (r.failed() > 0
                        ? " first failures: " + r.failureMessages().stream().limit(3).toList()
                        : ""))
        .toList()
        .toString();
  }

  static String perServer(HaproxyFleet.Result rollout) {
    var out = new ArrayList<String>();
    for (var s : rollout.last().path("servers")) {
      out.add(
          String.format(
              Locale.ROOT,
              "%s %.1f s (drain %d ms, deploy %d ms, check %d ms)",
              s.path("server").asString(),
              s.path("total_ms").asLong() / 1000.0,
              s.path("drain_ms").asLong(),
              s.path("deploy_ms").asLong(),
              s.path("check_ms").asLong()));
    }
    return String.join(", ", out);
  }

  @Test
  void rollingANewVersionOutAndBackUnderGetAndPostLoadFailsNoRequest() throws Exception {
    try (var fleet = HaproxyFleet.start(dir, 3)) {
      var original = fleet.activeCommand(0);
      var load = MixedLoad.start(fleet.frontendPort);
      Service.sleep(500);

      var v2 = new ArrayList<>(List.of("--"));
      v2.addAll(sampleV2());
      var forward = fleet.rollout(v2.toArray(String[]::new));
      assertThat(forward.exit())
          .as("rollout to v2: %s\n%s", forward.stderr(), forward.stdout())
          .isZero();
      for (int i = 0; i < 3; i++) {
        assertThat(fleet.activeCommand(i)).as(fleet.name(i) + " runs v2").isEqualTo(sampleV2());
      }
      fleet.assertEveryServerReadyAndUp();

      var back = fleet.rollout();
      assertThat(back.exit()).as("rollout back: %s\n%s", back.stderr(), back.stdout()).isZero();
      Service.sleep(500);
      var reports = load.stop();

      for (int i = 0; i < 3; i++) {
        assertThat(fleet.activeCommand(i))
            .as(fleet.name(i) + " runs the configured version again")
            .isEqualTo(original);
      }
      fleet.assertEveryServerReadyAndUp();
      System.out.printf(
          Locale.ROOT,
          "rollout to v2 in %.1f s: %s%n",
          forward.last().path("elapsed_ms").asLong() / 1000.0,
          perServer(forward));
      System.out.printf(
          Locale.ROOT,
          "rollout back in %.1f s: %s%n",
          back.last().path("elapsed_ms").asLong() / 1000.0,
          perServer(back));
      System.out.println("load through HAProxy during both rollouts: " + describe(reports));
      assertThat(reports)
          .allSatisfy(
              r -> assertThat(r.requests()).as(r.load().method() + " requests").isGreaterThan(500));
      assertThat(failed(reports)).as("failed requests: %s", describe(reports)).isZero();
      assertThat(forward.lines())
          .as("progress for every server and step")
          .anyMatch(
              l ->
                  l.path("server").asString("").equals("s3")
                      && l.path("step").asString().equals("healthy"));
    }
  }

  @Test
  void killingAndRestartingEachServerWithoutDrainingFailsRequests() throws Exception {
    assertThat(HaproxyFleet.HAPROXY).isExecutable();
    var ports = List.of(HaproxyFleet.freePort(), HaproxyFleet.freePort(), HaproxyFleet.freePort());
    var servers = new ArrayList<Process>();
    Process haproxy = null;
    try {
      for (var port : ports) {
        servers.add(plainSample(port));
      }
      int front = HaproxyFleet.freePort();
      // The seed's configuration: health checks, but no retries elsewhere, no redispatch, no drain.
      var config = dir.resolve("seed.cfg");
      Files.writeString(
          config,
          """
          defaults
              mode http
              timeout connect 2s
              timeout client 30s
              timeout server 30s
          frontend fe
              bind 127.0.0.1:%d
              default_backend app
          backend app
              balance roundrobin
              option httpchk GET /healthz
              server s1 127.0.0.1:%d check inter 300ms
              server s2 127.0.0.1:%d check inter 300ms
              server s3 127.0.0.1:%d check inter 300ms
          """
              .formatted(front, ports.get(0), ports.get(1), ports.get(2)));
      haproxy =
          new ProcessBuilder(HaproxyFleet.HAPROXY.toString(), "-db", "-f", config.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("seed-haproxy.log").toFile())
              .start();
      awaitHttp(front);
      var load = MixedLoad.start(front);
      Service.sleep(500);

      for (int i = 0; i < servers.size(); i++) {
        servers.get(i).destroyForcibly().waitFor();
        servers.set(i, plainSample(ports.get(i)));
        Service.sleep(1500);
      }
      var reports = load.stop();

      System.out.println(
          "negative control, kill and restart of 3 servers behind the seed's HAProxy: "
              + describe(reports));
      assertThat(requests(reports)).isGreaterThan(500);
      assertThat(failed(reports)).as("a plain restart behind HAProxy fails requests").isPositive();
    } finally {
      if (haproxy != null) {
        haproxy.destroy();
        haproxy.waitFor(10, TimeUnit.SECONDS);
      }
      for (var p : servers) {
        p.destroyForcibly().waitFor();
      }
    }
  }

  /** The sample on its own, on a fixed port, as the seed ran its servers; up once it answers. */
  private Process plainSample(int port) throws Exception {
    var command = new ArrayList<>(sampleV2());
    command.add("--port=" + port);
    var process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(dir.resolve("sample-" + port + ".log").toFile()))
            .start();
    awaitHttp(port);
    return process;
  }

  private static void awaitHttp(int port) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      try (var socket = new java.net.Socket("127.0.0.1", port)) {
        socket
            .getOutputStream()
            .write(
                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
        if (new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)
            .startsWith("HTTP/1.1 200")) {
          return;
        }
      } catch (IOException e) {
        // not yet
      }
      Service.sleep(50);
    }
    throw new AssertionError("nothing answered 200 on 127.0.0.1:" + port + " within 20 s");
  }

  @Test
  void aCanaryThatAnswers5xxIsAbortedAndRolledBackWhileFewRequestsFail() throws Exception {
    var gunicorn = Path.of("/usr/bin/gunicorn");
    assertThat(gunicorn).as("gunicorn is installed by .ci/run").isExecutable();
    try (var in = getClass().getResourceAsStream("/failing_wsgi_app.py")) {
      Files.write(dir.resolve("failing_wsgi_app.py"), in.readAllBytes());
    }
    try (var fleet = HaproxyFleet.start(dir, 3)) {
      var original = fleet.activeCommand(0);
      var load = MixedLoad.start(fleet.frontendPort);
      Service.sleep(500);

      var rollout =
          fleet.rollout(
              "--canary",
              "s1",
              "--canary-weight",
              "10",
              "--canary-bake",
              "20s",
              "--",
              gunicorn.toString(),
              "--workers",
              "1",
              "--chdir",
              dir.toString(),
              "failing_wsgi_app:app");
      var reports = load.stop();

      assertThat(rollout.exit()).as(rollout.stdout()).isEqualTo(1);
      assertThat(rollout.stderr())
          .contains("s1 (bake): the canary fails more requests than the other servers")
          .contains("Rolled back s1")
          .contains("Every server is ready in HAProxy");
      for (int i = 0; i < 3; i++) {
        assertThat(fleet.activeCommand(i))
            .as(fleet.name(i) + " runs the configured version")
            .isEqualTo(original);
      }
      fleet.assertEveryServerReadyAndUp();
      double ratio = (double) failed(reports) / requests(reports);
      var abort =
          rollout.lines().stream()
              .filter(l -> l.path("step").asString().equals("abort"))
              .findFirst()
              .orElseThrow();
      System.out.printf(
          Locale.ROOT,
          "canary returning 500: aborted %.1f s into the rollout; %d of %d requests failed (%.3f%%) in the window: %s%n",
          abort.path("elapsed_ms").asLong() / 1000.0,
          failed(reports),
          requests(reports),
          ratio * 100,
          describe(reports));
      assertThat(ratio)
          .as("failed share of requests during the canary's rollout and rollback")
          .isLessThan(0.01);
      assertThat(rollout.lines())
          .noneMatch(
              l ->
                  l.path("server").asString("").equals("s2")
                      && l.path("step").asString().equals("drain"));
    }
  }

  static JsonNode step(HaproxyFleet.Result result, String server, String step) {
    return result.lines().stream()
        .filter(
            l ->
                l.path("server").asString("").equals(server)
                    && l.path("step").asString().equals(step))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no " + step + " for " + server + " in " + result.stdout()));
  }
}
