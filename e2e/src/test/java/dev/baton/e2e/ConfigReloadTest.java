package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code baton deploy}, as {@code systemctl reload} runs it, deploys what baton.toml says now: a
 * command and an environment edited in the file start with the next generation, and a file with a
 * mistake is refused while the active generation serves on. Under load, without one failure.
 */
class ConfigReloadTest {
  @TempDir Path dir;

  @Test
  void anEditedFileIsDeployedAndABrokenOneRefusedWhileNoRequestFails() throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      var file = dir.resolve("baton.toml");
      var first = Files.readString(file);
      var load =
          LoadGenerator.start(
              ZeroDowntimeTest.load(service.port())
                  .connectionPerRequest()
                  .get("/")
                  .connections(8)
                  .build());
      Service.sleep(300);

      // The command gains an argument and the app an environment variable, in the file only.
      var edited =
          first.replace(
              "command = " + Service.sampleCommand(),
              "command = "
                  + Service.sampleCommand("--work-cpu=1")
                  + "\nenv = { RELEASE = \"v2\" }");
      assertThat(edited).isNotEqualTo(first);
      Files.writeString(file, edited);
      var deployed = service.cli("deploy");
      assertThat(deployed.exit()).as(deployed.output()).isZero();

      var status = service.status();
      assertThat(status.path("active_generation").asInt()).isEqualTo(2);
      var generation2 = status.path("generations").get(1);
      assertThat(generation2.path("command").toString()).contains("--work-cpu=1");
      var history = status.path("history");
      assertThat(history.get(history.size() - 1).path("reason").asString())
          .isEqualTo("config: [app]");
      var environ =
          Files.readString(Path.of("/proc/" + generation2.path("pid").asInt() + "/environ"));
      assertThat(environ.split("\0")).contains("RELEASE=v2");

      // A typo: the CLI refuses before it asks (exit 2), and the supervisor refuses the same
      // file from any other client; generation 2 stays active.
      Files.writeString(file, edited.replace("[drain]", "[drian]"));
      var refused = service.cli("deploy");
      assertThat(refused.exit()).as(refused.output()).isEqualTo(2);
      assertThat(refused.output()).contains(file + ":").contains("unknown key 'drian'");
      var reply = service.deploy();
      assertThat(reply.path("ok").asBoolean()).as(reply.toString()).isFalse();
      assertThat(reply.path("error").asString())
          .contains("unknown key 'drian'")
          .contains("the deploy was refused and nothing changed");

      // A second listener: bound once per supervisor, so refused too, with what to do instead.
      Files.writeString(
          file, edited + "\n[[listen]]\nname = \"admin\"\naddress = \"127.0.0.1:0\"\n");
      var listener = service.cli("deploy");
      assertThat(listener.exit()).as(listener.output()).isEqualTo(1);
      assertThat(listener.output())
          .contains("[[listen]] changed, which a deploy cannot take")
          .contains("restart the service");

      Service.sleep(300);
      LoadReport report = load.stop();
      System.out.println(
          "conn-per-request c=8, a deploy of an edited baton.toml, then two refused: "
              + report.summary());
      assertThat(report.failed())
          .as("failed: %s %s", report.failures(), report.failureMessages())
          .isZero();
      assertThat(report.ok()).isGreaterThan(100);
      status = service.status();
      assertThat(status.path("active_generation").asInt()).isEqualTo(2);
      assertThat(status.path("generations").size()).isEqualTo(2);
    }
  }
}
