package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unmodified servers from other ecosystems, installed from Debian, each in the smallest app that
 * shows its normal configuration (examples/node, go, uwsgi, puma): it takes the listener from
 * LISTEN_FDS as its own documentation says, becomes ready by its own means, and drains by its own
 * graceful stop (uWSGI, whose every stop by signal can lose a request, by pausing its workers until
 * baton's SIGKILL). Each is redeployed 20 times under connection-per-request load (c=8) and
 * keep-alive load at once, and no request may fail.
 */
class ServersTest {
  @TempDir Path dir;

  static final Path EXAMPLES = Service.ROOT.resolve("examples");
  static final int DEPLOYS = 20;

  @Test
  void nodeListensOnTheInheritedFdsAndDrainsWithServerClose() throws Exception {
    var node = installed("/usr/bin/node", "nodejs");
    // Node has no sd_notify: readiness is its HTTP answer on the private probe listener, which
    // the app serves like any other inherited listener.
    redeployUnderLoad(
        "node",
        """
        [readiness]
        http = "/healthz"
        timeout = "20s"
        """,
        List.of(node.toString(), EXAMPLES.resolve("node/server.js").toString()));
  }

  @Test
  void goTakesActivationListenersAndSaysReadyWithSdNotify() throws Exception {
    installed("/usr/bin/go", "golang-go");
    var server = dir.resolve("go-server");
    var build =
        new ProcessBuilder(EXAMPLES.resolve("go/build.sh").toString(), server.toString())
            .redirectErrorStream(true)
            .start();
    var output = new String(build.getInputStream().readAllBytes());
    assertThat(build.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(build.exitValue())
        .as("go build (golang-github-coreos-go-systemd-dev installed?): %s", output)
        .isZero();
    redeployUnderLoad(
        "go",
        """
        [readiness]
        notify = true
        timeout = "20s"
        """,
        List.of(server.toString()));
  }

  @Test
  void uwsgiAttachesTheInheritedSocketsSaysReadyItselfAndDrainsByPausingItsWorkers()
      throws Exception {
    var uwsgi = installed("/usr/bin/uwsgi", "uwsgi");
    installed("/usr/lib/uwsgi/plugins/python3_plugin.so", "uwsgi-plugin-python3");
    redeployUnderLoad(
        "uwsgi",
        """
        [readiness]
        notify = true
        timeout = "20s"
        """,
        // Paused, the old generation takes nothing more; the SIGKILL after this ends it.
        "2s",
        List.of(uwsgi.toString(), "--ini", EXAMPLES.resolve("uwsgi/uwsgi.ini").toString()));
  }

  @Test
  void pumaBindsToActivatedSocketsAndSaysReadyWithSdNotify() throws Exception {
    var puma = installed("/usr/bin/puma", "puma");
    redeployUnderLoad(
        "puma",
        """
        [readiness]
        notify = true
        timeout = "30s"
        """,
        List.of(
            puma.toString(),
            "--config",
            EXAMPLES.resolve("puma/puma.rb").toString(),
            EXAMPLES.resolve("puma/config.ru").toString()));
  }

  private static Path installed(String path, String debianPackage) {
    var p = Path.of(path);
    assertThat(p)
        .as("%s is installed by .ci/run (apt-get install %s)", path, debianPackage)
        .exists();
    return p;
  }

  private void redeployUnderLoad(String name, String readiness, List<String> argv)
      throws Exception {
    redeployUnderLoad(name, readiness, "20s", argv);
  }

  private void redeployUnderLoad(
      String name, String readiness, String drainTimeout, List<String> argv) throws Exception {
    var config =
        """
        [app]
        command = %s

        [[listen]]
        name = "http"
        address = "127.0.0.1:0"

        %s
        [drain]
        timeout = "%s"
        """
            .formatted(Service.toml(argv), readiness, drainTimeout);
    try (var service = Service.start(dir, config)) {
      var perRequest = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
      var keepAlive =
          LoadGenerator.start(
              ZeroDowntimeTest.load(service.port()).keepAlive().get("/").connections(4).build());
      ZeroDowntimeTest.redeploy(service, DEPLOYS, 100);
      LoadReport perRequestReport = perRequest.stop();
      LoadReport keepAliveReport = keepAlive.stop();
      System.out.printf(
          "%s, %d deploys: conn-per-request c=8: %s%n", name, DEPLOYS, perRequestReport.summary());
      System.out.printf(
          "%s, %d deploys: keep-alive c=4: %s%n", name, DEPLOYS, keepAliveReport.summary());
      ZeroDowntimeTest.assertNoFailures(perRequestReport, service);
      ZeroDowntimeTest.assertNoFailures(keepAliveReport, service);
      assertThat(service.status().path("active_generation").asInt()).isEqualTo(DEPLOYS + 1);
    }
  }
}
