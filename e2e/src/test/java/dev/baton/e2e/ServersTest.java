package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unmodified servers from other ecosystems, installed from Debian, each in the smallest app that
 * shows its normal configuration (examples/node, go, uwsgi, puma): it takes the listener from
 * LISTEN_FDS as its own documentation says, becomes ready by its own means, and drains by its own
 * graceful stop (uWSGI, whose every stop by signal can lose a request, by pausing its workers until
 * baton's SIGKILL); and a JVM server that takes it from fd 0 with System.inheritedChannel(), inetd
 * style (examples' InheritedChannelExample). Each is redeployed 20 times under
 * connection-per-request load (c=8) and keep-alive load at once, and no request may fail. Node runs
 * twice: on the one shared listening socket (steer = "shared", the default) and steered by BPF
 * (steer = "bpf", see SteerTest), where Node, which knows nothing of baton, is parked at each
 * promotion and drained when the next one makes room.
 */
class ServersTest {
  @TempDir Path dir;

  static final Path EXAMPLES = Service.ROOT.resolve("examples");
  static final int DEPLOYS = 20;

  @ParameterizedTest(name = "steer = {0}")
  @ValueSource(strings = {"shared", "bpf"})
  void nodeListensOnTheInheritedFdsAndDrainsWithServerClose(String steer) throws Exception {
    var node = installed("/usr/bin/node", "nodejs");
    // Node has no sd_notify: readiness is its HTTP answer on the private probe listener, which
    // the app serves like any other inherited listener.
    redeployUnderLoad(
        "node, steer=" + steer,
        steer.equals("shared") ? "" : "steer = \"" + steer + "\"",
        """
        [readiness]
        http = "/healthz"
        timeout = "20s"
        """,
        "20s",
        List.of(node.toString(), EXAMPLES.resolve("node/server.js").toString()),
        service -> SteerTest.assertSteer(service.status(), steer));
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

  @Test
  void jvmTakesFd0WithInheritedChannelSaysReadyOverBatonControlAndDrainsOnSigterm()
      throws Exception {
    var java =
        List.of(
            Service.JAVA,
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xss512k",
            "-XX:-UsePerfData",
            "-cp",
            System.getProperty("java.class.path"),
            "dev.baton.examples.InheritedChannelExample");
    // Not the HTTP probe: its private listener comes as LISTEN_FDS at fd 3 even with pass = "fd0",
    // and System.inheritedChannel() sees fd 0 only (taking fd 3 needs the sun.nio.ch internals that
    // fd 0 does without), so the probe would never be answered. Not NOTIFY_SOCKET either: java.nio
    // has no Unix datagram socket. The app says READY over BATON_CONTROL, a stream socket, through
    // baton-app's Baton, and only once its accept loop runs. An app that speaks BATON_CONTROL is
    // parked rather than drained; [park] max = 0 drains each generation through its own SIGTERM
    // stop, which is what this test is for.
    redeployUnderLoad(
        "jvm fd0",
        "pass = \"fd0\"",
        """
        [readiness]
        notify = true
        timeout = "30s"

        [park]
        max = 0
        """,
        "20s",
        java,
        service -> {
          // Status keeps the last 20: generations 2 to 20, once the active one is counted.
          for (var listed : service.status().path("generations")) {
            int number = listed.path("number").asInt();
            if (number <= DEPLOYS) {
              var generation =
                  AdapterTest.awaitState(service, number, "exited", Duration.ofSeconds(30));
              // The example halts with 0 once its own drain has run; a JVM that merely ended on the
              // signal says 143, and one killed at [drain] timeout "killed by KILL".
              assertThat(generation.path("exit").asString())
                  .as("generation %s", generation)
                  .isEqualTo("exited with status 0");
            }
          }
          assertThat(awaitLines(service, "through System.inheritedChannel()", DEPLOYS + 1))
              .as("every generation took fd 0 and bound nothing itself")
              .isEqualTo(DEPLOYS + 1);
          // Its last line, after the drain, still reaches baton's log: the app never closes the
          // inherited channel, which would have pointed its stdout at /dev/null.
          assertThat(awaitLines(service, "drained; exiting", DEPLOYS))
              .as("drained generations that said so")
              .isEqualTo(DEPLOYS);
        });
  }

  /**
   * How many lines of the supervisor's log contain {@code text}, once {@code expected} do or 10 s
   * have passed.
   */
  private static long awaitLines(Service service, String text, long expected) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      long lines = service.logText().lines().filter(line -> line.contains(text)).count();
      if (lines >= expected || System.nanoTime() - deadline > 0) {
        return lines;
      }
      Service.sleep(50);
    }
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
    redeployUnderLoad(name, "", readiness, drainTimeout, argv, service -> {});
  }

  /**
   * Both loads, bounded in time (ZeroDowntimeTest's 5 minutes) and in count; {@code listen} adds to
   * the one [[listen]], and {@code after} checks the service once the loads have ended.
   */
  private void redeployUnderLoad(
      String name,
      String listen,
      String readiness,
      String drainTimeout,
      List<String> argv,
      Consumer<Service> after)
      throws Exception {
    var config =
        """
        [app]
        command = %s

        [[listen]]
        name = "http"
        address = "127.0.0.1:0"
        %s
        %s
        [drain]
        timeout = "%s"
        """
            .formatted(Service.toml(argv), listen, readiness, drainTimeout);
    try (var service = Service.start(dir, config)) {
      var perRequest =
          LoadGenerator.start(
              ZeroDowntimeTest.load(service.port())
                  .connectionPerRequest()
                  .get("/")
                  .connections(8)
                  .requests(5_000_000)
                  .build());
      var keepAlive =
          LoadGenerator.start(
              ZeroDowntimeTest.load(service.port())
                  .keepAlive()
                  .get("/")
                  .connections(4)
                  .requests(5_000_000)
                  .build());
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
      after.accept(service);
    }
  }
}
