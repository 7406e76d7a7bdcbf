package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadReport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * baton-app at its edges, with the sample and real processes: outside baton, against strangers on
 * its control socket, and across a supervisor that goes away and comes back.
 */
class BatonAppTest {
  @TempDir Path dir;

  @Test
  void outsideBatonTheSampleBindsItsPortItselfSaysSoAndServes() throws Exception {
    var builder = new ProcessBuilder(Service.sampleArgv("--port=0"));
    builder
        .environment()
        .keySet()
        .removeIf(
            k -> k.startsWith("LISTEN_") || k.startsWith("BATON_") || k.equals("NOTIFY_SOCKET"));
    var sample = builder.redirectErrorStream(true).start();
    try {
      var output =
          new BufferedReader(
              new InputStreamReader(sample.getInputStream(), StandardCharsets.UTF_8));
      var lines = new ArrayList<String>();
      var bound =
          Pattern.compile(
              "baton-app: no LISTEN_FDS or inherited socket; bound 127\\.0\\.0\\.1:(\\d+) itself");
      String port = null;
      for (var line = output.readLine();
          line != null && !line.contains("listening on");
          line = output.readLine()) {
        lines.add(line);
        var matcher = bound.matcher(line);
        if (matcher.matches()) {
          port = matcher.group(1);
        }
      }
      assertThat(port).as("the fallback line in %s", lines).isNotNull();
      assertThat(lines)
          .contains(
              "baton-app: no BATON_CONTROL, so not under baton: ready, status, pause and resume do nothing");

      var client = HttpClient.newHttpClient();
      var response =
          client.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).startsWith("generation 0 pid " + sample.pid());
    } finally {
      sample.destroy();
      assertThat(sample.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(sample.exitValue()).as("exit status after a SIGTERM drain").isZero();
  }

  @Test
  void aStrangersUidIsRefusedOnTheAppControlSocket() throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      var socket = dir.resolve("baton.sock.app");
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      assertThat(Files.getPosixFilePermissions(socket))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      // With the socket's own mode the kernel already turns a stranger away.
      assertThat(helloAsNobody(socket)).contains("PermissionError");
      // Widened as a careless operator might: the supervisor's SO_PEERCRED check still refuses.
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));

      assertThat(helloAsNobody(socket)).isEqualTo("ERROR uid 65534 is not the supervisor's (0)\n");
      assertThat(service.logText()).contains("refused a BATON_CONTROL connection: uid 65534");
      assertThat(service.status().path("active_generation").asInt()).isEqualTo(1);
    }
  }

  @Test
  void aProcessOfTheSameUserThatIsNoGenerationIsRefused() throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      var reply = hello(List.of(), dir.resolve("baton.sock.app"));

      assertThat(reply).matches("ERROR pid \\d+ is no live generation's main process\n");
      // The generation it pretended to be still answers to the supervisor: a deploy parks it.
      RollbackTest.deployAndExpectTheOldOneParked(service);
    }
  }

  @Test
  void afterTheSupervisorUpgradesItselfTheParkedGenerationReconnectsAndARollbackResumesIt()
      throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      var load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
      RollbackTest.deployAndExpectTheOldOneParked(service);

      var upgrade = service.call("upgrade", e -> {});
      assertThat(upgrade.path("ok").asBoolean()).as(upgrade.toString()).isTrue();
      service.awaitActive(Duration.ofSeconds(30));
      awaitLogLines(service, "generation 1 (pid", "connected to BATON_CONTROL", 2);
      var events = new ArrayList<String>();
      var rollback = service.rollback(e -> events.add(e.path("event").asString()));
      Service.sleep(500);
      LoadReport report = load.stop();

      System.out.println(
          "a supervisor upgrade with generation 1 parked, then a rollback to it: "
              + report.summary());
      assertThat(rollback.path("ok").asBoolean()).as(rollback + "\n" + service.logText()).isTrue();
      assertThat(rollback.path("generation").asInt()).isEqualTo(1);
      assertThat(events).contains("resumed");
      assertThat(report.failed())
          .as("failed: %s %s", report.failures(), report.failureMessages())
          .isZero();
      assertThat(report.ok()).isGreaterThan(100);
    }
  }

  @Test
  void aRollbackRightAfterASupervisorUpgradeWaitsForTheParkedGenerationToReconnect()
      throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      var load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
      RollbackTest.deployAndExpectTheOldOneParked(service);
      var parked = BadVersionTest.generation(service.status(), 1).path("pid").asInt();
      // Stopped, the parked generation cannot reconnect until it is continued, a second after the
      // new supervisor is up: a rollback meanwhile must wait for it, not fail or drain it.
      signal("STOP", parked);
      var upgrade = service.call("upgrade", e -> {});
      assertThat(upgrade.path("ok").asBoolean()).as(upgrade.toString()).isTrue();
      service.awaitActive(Duration.ofSeconds(30));
      var continued =
          CompletableFuture.runAsync(
              () -> {
                Service.sleep(1000);
                signal("CONT", parked);
              });

      var rollback = service.rollback(e -> {});
      continued.join();
      Service.sleep(500);
      LoadReport report = load.stop();

      assertThat(rollback.path("ok").asBoolean()).as(rollback + "\n" + service.logText()).isTrue();
      assertThat(rollback.path("generation").asInt()).isEqualTo(1);
      assertThat(report.failed())
          .as("failed: %s %s", report.failures(), report.failureMessages())
          .isZero();
    }
  }

  @Test
  void afterTheSupervisorIsKilledAndRestartedTheParkedGenerationReconnectsAndARollbackResumesIt()
      throws Exception {
    var config = Service.sampleConfig();
    var first = Service.start(dir, config);
    var load = ZeroDowntimeTest.connectionPerRequest(first.port(), 8);
    try {
      RollbackTest.deployAndExpectTheOldOneParked(first);
      first.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      // Nobody supervises for a while: the parked generation keeps trying its control socket.
      Service.sleep(1500);
      try (var second = Service.start(dir, config)) {
        assertThat(second.status().path("parked").get(0).asInt()).isEqualTo(1);
        awaitLogLines(second, "generation 1 (pid", "connected to BATON_CONTROL", 1);

        var rollback = second.rollback(e -> {});
        Service.sleep(500);
        LoadReport report = load.stop();

        System.out.println(
            "kill -9 of the supervisor with generation 1 parked, a restart, then a rollback to it: "
                + report.summary());
        assertThat(rollback.path("ok").asBoolean()).as(rollback + "\n" + second.logText()).isTrue();
        assertThat(rollback.path("generation").asInt()).isEqualTo(1);
        assertThat(report.failed())
            .as("failed: %s %s", report.failures(), report.failureMessages())
            .isZero();
      }
    } finally {
      load.close();
      first.close();
    }
  }

  private static void signal(String name, int pid) {
    try {
      var kill = new ProcessBuilder("kill", "-" + name, Integer.toString(pid)).inheritIO().start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0)
          .as("kill -%s %d", name, pid)
          .isTrue();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Waits until the supervisor's log has {@code count} lines containing both texts. */
  private static void awaitLogLines(Service service, String text, String andText, int count) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      if (service.logText().lines().filter(l -> l.contains(text) && l.contains(andText)).count()
          >= count) {
        return;
      }
      Service.sleep(50);
    }
    throw new AssertionError(
        count + " lines with '" + text + "' and '" + andText + "' expected:\n" + service.logText());
  }

  private static String helloAsNobody(Path socket) throws Exception {
    return hello(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"), socket);
  }

  /**
   * Says HELLO 1 on the socket from a new python3 process, as a stranger would; returns the answer.
   */
  private static String hello(List<String> asUser, Path socket) throws Exception {
    var script =
        "import socket\n"
            + "s = socket.socket(socket.AF_UNIX)\n"
            + "try:\n"
            + "    s.connect('"
            + socket
            + "')\n"
            + "    s.sendall(b'HELLO 1\\n')\n"
            + "    print(s.recv(4096).decode(), end='')\n"
            + "except Exception as e:\n"
            + "    print(type(e).__name__, e)\n";
    var command = new ArrayList<>(asUser);
    command.addAll(List.of("/usr/bin/python3", "-c", script));
    var p = new ProcessBuilder(command).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }
}
