package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Os;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starting, stopping and living under systemd: nothing is left behind, and the pid never changes.
 */
class LifecycleTest {
  @TempDir Path dir;

  private String gunicornConfig() throws Exception {
    try (var in = getClass().getResourceAsStream("/wsgi_app.py")) {
      Files.write(dir.resolve("wsgi_app.py"), in.readAllBytes());
    }
    return """
        [app]
        command = %s

        [[listen]]
        address = "127.0.0.1:0"

        [readiness]
        notify = true
        """
        .formatted(
            Service.toml(
                List.of(
                    "/usr/bin/gunicorn",
                    "--workers",
                    "2",
                    "--chdir",
                    dir.toString(),
                    "wsgi_app:app")));
  }

  @Test
  void afterBatonStopNoProcessOfTheServiceIsLeft() throws Exception {
    try (var service = Service.start(dir, gunicornConfig())) {
      assertThat(service.deploy().path("ok").asBoolean()).isTrue();
      var pids =
          service
              .status()
              .path("generations")
              .valueStream()
              .map(g -> g.path("pid").asInt())
              .toList();
      assertThat(pids).hasSize(2);
      var stop = service.cli("stop");
      assertThat(stop.exit()).as(stop.output()).isZero();
      assertThat(service.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(service.process.exitValue()).isZero();
      for (var pid : pids) {
        assertThat(Service.groupAlive(pid))
            .as("process group %d (gunicorn and its workers)", pid)
            .isFalse();
      }
      assertThat(service.logText()).contains("stopped");
    }
  }

  @Test
  void sigtermToTheSupervisorDrainsEveryGeneration() throws Exception {
    try (var service = Service.start(dir, gunicornConfig())) {
      var pid = service.status().path("generations").get(0).path("pid").asInt();
      service.process.destroy();
      assertThat(service.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(Service.groupAlive(pid)).isFalse();
      assertThat(service.logText()).contains("draining generation 1").contains("stopped");
    }
  }

  @Test
  void underSystemdTheSupervisorSendsReadyWithItsOwnPidWhichDeploysNeverChange() throws Exception {
    var os = Os.linux();
    try (var notify = os.openNotifySocket(dir.resolve("systemd.notify"))) {
      Files.writeString(dir.resolve("baton.toml"), Service.sampleConfig());
      var builder =
          Service.batonCommand(dir, "run", "-c", dir.resolve("baton.toml").toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("supervisor.log").toFile());
      builder.environment().put("NOTIFY_SOCKET", notify.path().toString());
      var process = builder.start();
      try {
        var ready = notify.receive().orElseThrow();
        assertThat(ready.fields())
            .containsEntry("READY", "1")
            .containsEntry("MAINPID", Long.toString(process.pid()));
        assertThat(ready.pid()).isEqualTo((int) process.pid());
        var reply = Wire.call(dir.resolve("baton.sock"), Wire.request("deploy"), e -> {});
        assertThat(reply.path("ok").asBoolean()).isTrue();
        var again = notify.receive().orElseThrow();
        assertThat(again.pid()).isEqualTo((int) process.pid());
        assertThat(again.fields()).containsEntry("STATUS", "generation 2 active");
      } finally {
        process.destroy();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(notify.receive().orElseThrow().fields()).containsEntry("STOPPING", "1");
    }
  }

  @Test
  void everyGenerationsOutputReachesTheSupervisorLogPrefixedWithItsNumber() throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      for (int i = 0; i < 3; i++) {
        assertThat(service.deploy().path("ok").asBoolean()).isTrue();
      }
      assertThat(service.cli("stop").exit()).isZero();
      assertThat(service.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      var log = service.logText();
      for (int g = 1; g <= 4; g++) {
        assertThat(log).contains("gen " + g + " | ");
      }
    }
  }
}
