package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Losing the supervisor, or upgrading it, costs nothing: the generations hold the listeners too,
 * and the next supervisor takes them back.
 */
class RecoveryTest {
  @TempDir Path dir;

  @Test
  void killingTheSupervisorWithSigkillUnderLoadLosesNoRequestAndARestartTakesTheServiceBack()
      throws Exception {
    var config = Service.sampleConfig();
    var first = Service.start(dir, config);
    var load = ZeroDowntimeTest.connectionPerRequest(first.port(), 8);
    try {
      var generation = first.status().path("generations").get(0).path("pid").asInt();
      Service.sleep(500);
      first.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      // Nobody supervises for a while; the generation keeps serving on its copy of the listener.
      Service.sleep(1000);
      assertThat(ProcessHandle.of(generation)).isPresent();
      try (var second = Service.start(dir, config)) {
        var status = second.status();
        assertThat(status.path("active_generation").asInt()).isEqualTo(1);
        assertThat(status.path("generations").get(0).path("pid").asInt()).isEqualTo(generation);
        org.awaitility.Awaitility.await()
            .atMost(java.time.Duration.ofSeconds(10))
            .until(
                () ->
                    second
                        .logText()
                        .contains("recovered: generation 1 (pid " + generation + ") active"));
        var deployed = second.deploy();
        assertThat(deployed.path("ok").asBoolean()).as(deployed.toString()).isTrue();
        assertThat(deployed.path("generation").asInt()).isEqualTo(2);
        Service.sleep(500);
        var report = load.stop();
        System.out.println("kill -9 of the supervisor and a restart: " + report.summary());
        assertThat(report.failed())
            .as("%s %s", report.failures(), report.failureMessages())
            .isZero();
        assertThat(report.ok()).isGreaterThan(1000);
      }
    } finally {
      load.close();
      first.close();
    }
  }

  @Test
  void twentyUpgradesUnderLoadLoseNoRequestAndKeepThePid() throws Exception {
    // With the remote API and the agent-check on: their ports must be free again after each exec.
    var token = dir.resolve("token");
    java.nio.file.Files.writeString(token, "s3cret-token-for-tests\n");
    java.nio.file.Files.setPosixFilePermissions(
        token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    var extra =
        "[remote]\naddress = \"127.0.0.1:"
            + freePort()
            + "\"\ntoken_file = \""
            + token
            + "\"\n"
            + "[agent]\naddress = \"127.0.0.1:"
            + freePort()
            + "\"\n";
    try (var service = Service.start(dir, Service.sampleConfig(extra))) {
      var pid = service.status().path("supervisor_pid").asInt();
      assertThat(pid).isEqualTo((int) service.process.pid());
      var load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
      // The first through the CLI, as an operator would; the rest straight over the control socket.
      var upgrade = service.cli("upgrade", "--json");
      assertThat(upgrade.exit()).as(upgrade.output() + service.logText()).isZero();
      assertThat(upgrade.output()).contains("\"pid\":" + pid);
      for (int i = 1; i < 20; i++) {
        var reply = service.call("upgrade", e -> {});
        assertThat(reply.path("ok").asBoolean()).as(reply.toString()).isTrue();
        assertThat(reply.path("pid").asInt()).isEqualTo(pid);
        service.awaitActive(java.time.Duration.ofSeconds(30));
        assertThat(service.status().path("supervisor_pid").asInt()).isEqualTo(pid);
      }
      assertThat(service.deploy().path("ok").asBoolean()).isTrue();
      var report = load.stop();
      System.out.println("20 supervisor upgrades: " + report.summary());
      assertThat(report.failed()).as("%s %s", report.failures(), report.failureMessages()).isZero();
      assertThat(service.status().path("supervisor_pid").asInt()).isEqualTo(pid);
      assertThat(service.process.isAlive()).isTrue();
    }
  }

  @Test
  void aConfigWhoseListenersChangedIsRefusedAndNothingIsHarmed() throws Exception {
    var first = Service.start(dir, Service.sampleConfig());
    try {
      var generation = first.status().path("generations").get(0).path("pid").asInt();
      first.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      var changed =
          Service.launch(dir, Service.sampleConfig().replace("name = \"http\"", "name = \"web\""));
      assertThat(changed.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(changed.process.exitValue()).isEqualTo(1);
      assertThat(changed.logText())
          .contains(
              "cannot recover: generation(s) [pid "
                  + generation
                  + "] still run and hold listeners");
      assertThat(ProcessHandle.of(generation)).isPresent();
      try (var again = Service.start(dir, Service.sampleConfig())) {
        assertThat(again.status().path("active_generation").asInt()).isEqualTo(1);
      }
    } finally {
      first.close();
    }
  }

  @Test
  void noLineIsLostOrCutAcrossFiveUpgradesOfTheSupervisor() throws Exception {
    // A generation that prints numbered lines as fast as the pipe takes them, in two writes per
    // line so that upgrades also catch lines half read.
    var writer =
        "import os, time\n"
            + "i = 0\n"
            + "while True:\n"
            + "    i += 1\n"
            + "    os.write(1, b'n %d' % i)\n"
            + "    os.write(1, b' end\\n')\n"
            + "    if i % 50 == 0: time.sleep(0.001)\n";
    var config =
        """
        [app]
        command = %s

        [[listen]]
        address = "127.0.0.1:0"

        [readiness]
        alive = "200ms"

        [logs]
        file = "app.log"
        max_size = "100MB"
        """
            .formatted(Service.toml(List.of("/usr/bin/python3", "-c", writer)));
    try (var service = Service.start(dir, config)) {
      for (int i = 0; i < 5; i++) {
        Service.sleep(300);
        assertThat(service.call("upgrade", e -> {}).path("ok").asBoolean()).isTrue();
        service.awaitActive(java.time.Duration.ofSeconds(30));
      }
      Service.sleep(300);
      assertThat(service.cli("stop").exit()).isZero();
      assertThat(service.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    var numbers = new ArrayList<Long>();
    var lines = java.nio.file.Files.readAllLines(dir.resolve("app.log"));
    // The stop's SIGTERM may end the writer between its two writes: only its last line may be cut.
    if (!lines.getLast().endsWith(" end")) {
      lines = lines.subList(0, lines.size() - 1);
    }
    for (var line : lines) {
      var m = java.util.regex.Pattern.compile(" gen 1 \\| n (\\d+) end$").matcher(line);
      assertThat(m.find()).as("a whole line: %s", line).isTrue();
      numbers.add(Long.parseLong(m.group(1)));
    }
    assertThat(numbers.size()).isGreaterThan(1000);
    for (int i = 0; i < numbers.size(); i++) {
      assertThat(numbers.get(i)).as("line %d of %d", i, numbers.size()).isEqualTo(i + 1L);
    }
    System.out.println(
        "5 upgrades: " + numbers.size() + " numbered lines, each exactly once, in order");
  }

  @Test
  void aJournalNamingAProcessThatIsNotOursIsRefusedAndThatProcessIsLeftAlone() throws Exception {
    var config = Service.sampleConfig("[logs]\nfile = \"app.log\"\n");
    var first = Service.start(dir, config);
    // Another program of the same user, in a session of its own, as anything else on the host.
    var stranger = new ProcessBuilder("setsid", "sleep", "120").start();
    try {
      for (var file : List.of("baton.sock.state", "baton.sock.key", "app.log")) {
        assertThat(
                java.nio.file.attribute.PosixFilePermissions.toString(
                    java.nio.file.Files.getPosixFilePermissions(dir.resolve(file))))
            .as(file)
            .isEqualTo("rw-------");
      }
      var generation = first.status().path("generations").get(0).path("pid").asInt();
      first.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      // The journal rewritten to name the stranger, and signed with the key: only the /proc checks
      // stand.
      var journal = dir.resolve("baton.sock.state");
      var json = java.nio.file.Files.readString(journal).split("\n", 2)[1];
      var forged =
          json.replaceFirst(
              "\"pid\":" + generation + ",\"start_time\":\\d+",
              "\"pid\":" + stranger.pid() + ",\"start_time\":" + startTime(stranger.pid()));
      assertThat(forged).isNotEqualTo(json);
      var mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(
          new javax.crypto.spec.SecretKeySpec(
              java.nio.file.Files.readAllBytes(dir.resolve("baton.sock.key")), "HmacSHA256"));
      var sign =
          java.util.HexFormat.of()
              .formatHex(mac.doFinal(forged.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      java.nio.file.Files.writeString(journal, sign + "\n" + forged);
      var second = Service.launch(dir, config);
      assertThat(second.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(second.process.exitValue()).isEqualTo(1);
      var session =
          java.nio.file.Files.readString(Path.of("/proc", Long.toString(stranger.pid()), "stat"))
              .split("\\) ")[1]
              .split(" ")[3];
      assertThat(second.logText())
          .contains(
              "the state journal "
                  + journal
                  + " is refused: pid "
                  + stranger.pid()
                  + " (generation 1) is not a generation of this service: it is in session "
                  + session
                  + ", not in session ");
      assertThat(second.logText())
          .contains(
              "; nothing was signalled or taken back. Remove "
                  + journal
                  + " if you did not write it, and start again");
      assertThat(stranger.isAlive()).isTrue();
      assertThat(ProcessHandle.of(generation))
          .as("the real generation is left alone too")
          .isPresent();
    } finally {
      stranger.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      first.close();
    }
  }

  /** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
  private static long startTime(long pid) throws java.io.IOException {
    var stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
  }

  private static int freePort() throws java.io.IOException {
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
