package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator installs, not the checkout: the `baton` of the .deb (or an unpacked tarball),
 * run with its own Java runtime, serves the light sample it ships, deploys under load with no
 * failed request, rolls back and stops. .ci/run installs the package built by bin/release and runs
 * this with {@code -Dbaton.installed=/usr/bin/baton}; without the property there is nothing
 * installed to test.
 */
class InstalledPackageTest {
  @TempDir Path dir;

  @Test
  void theInstalledBatonDeploysUnderLoadRollsBackAndStops() throws Exception {
    var installed = System.getProperty("baton.installed", "");
    assumeTrue(
        !installed.isEmpty(), "set -Dbaton.installed=/usr/bin/baton to test an installed package");
    var launcher = Path.of(installed);
    assertThat(launcher).as("the installed launcher").isExecutable();
    // /usr/bin/baton links to /usr/lib/baton/bin/baton; the samples sit beside bin/ there.
    var home = launcher.toRealPath().getParent().getParent();
    var sample = home.resolve("samples/light_sample.py");
    assertThat(sample).as("the light sample the package ships").isRegularFile();

    var baton = List.of(launcher.toString());
    var version = Service.batonCommand(baton, dir, "--version").redirectErrorStream(true).start();
    var versionText = new String(version.getInputStream().readAllBytes());
    assertThat(version.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(versionText).startsWith("baton ").contains("commit ").doesNotContain("dev");

    var config =
        """
        [app]
        command = ["/usr/bin/python3", "-S", "%s"]

        [[listen]]
        name = "http"
        address = "127.0.0.1:0"

        [readiness]
        notify = true
        timeout = "20s"

        [drain]
        timeout = "10s"
        """
            .formatted(sample);
    try (var service = Service.launch(baton, dir, config)) {
      service.awaitActive(java.time.Duration.ofSeconds(60));
      assertThat(
              Files.readString(Path.of("/proc", Long.toString(service.process.pid()), "cmdline")))
          .as("the supervisor runs on the package's own runtime")
          .startsWith(home.resolve("runtime/bin/java").toString());
      var load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
      for (int i = 0; i < 5; i++) {
        var deploy = service.cli("deploy");
        assertThat(deploy.exit()).as(deploy.output()).isZero();
      }
      assertThat(service.status().path("active_generation").asInt()).isEqualTo(6);
      var rollback = service.cli("rollback");
      assertThat(rollback.exit()).as(rollback.output()).isZero();
      var report = load.stop();
      System.out.println("installed package, 5 deploys and a rollback: " + report.summary());
      ZeroDowntimeTest.assertNoFailures(report, service);
      // Generation 5 resumed if it was parked, or its command started again as generation 7.
      assertThat(service.status().path("active_generation").asInt())
          .as("active after the rollback")
          .isIn(5, 7);

      var stop = service.cli("stop");
      assertThat(stop.exit()).as(stop.output()).isZero();
      assertThat(service.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(service.process.exitValue()).isZero();
    }
  }
}
