package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadReport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
    // Never parked: each replaced generation drains, so a removed listener closes within the test.
    try (var service = Service.start(dir, Service.sampleConfig("[park]\nmax = 0"))) {
      var file = dir.resolve("baton.toml");
      var first = Files.readString(file);
      var load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
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

      // A second listener, added in the file: bound at the deploy and served by generation 3,
      // while the first never closes.
      var withAdmin = edited + "\n[[listen]]\nname = \"admin\"\naddress = \"127.0.0.1:0\"\n";
      Files.writeString(file, withAdmin);
      var added = service.cli("deploy");
      assertThat(added.exit()).as(added.output()).isZero();
      status = service.status();
      assertThat(status.path("active_generation").asInt()).isEqualTo(3);
      var admin = status.path("listeners").get(1);
      assertThat(admin.path("name").asString()).isEqualTo("admin");
      assertThat(admin.path("generations").toString()).isEqualTo("[3]");
      var adminAddress = admin.path("address").asString();
      int adminPort = Integer.parseInt(adminAddress.substring(adminAddress.lastIndexOf(':') + 1));
      assertThat(get(adminPort)).startsWith("generation 3 pid");

      // A port somebody else holds: the deploy is refused, naming the address, and nothing
      // changes.
      try (var squatter = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        Files.writeString(
            file,
            withAdmin
                + "\n[[listen]]\nname = \"taken\"\naddress = \"127.0.0.1:"
                + squatter.getLocalPort()
                + "\"\n");
        var inUse = service.cli("deploy");
        assertThat(inUse.exit()).as(inUse.output()).isEqualTo(1);
        assertThat(inUse.output())
            .contains("listener 'taken' cannot bind 127.0.0.1:" + squatter.getLocalPort())
            .contains("the address is in use")
            .contains("the deploy was refused and nothing changed");
        assertThat(service.status().path("listeners").size()).isEqualTo(2);
      }

      // The second listener removed: generation 4 is not given it, and it closes once generation
      // 3, which holds it, has drained.
      Files.writeString(file, edited);
      var removed = service.cli("deploy");
      assertThat(removed.exit()).as(removed.output()).isZero();
      var deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
      while (service.status().path("listeners").size() > 1 && System.nanoTime() < deadline) {
        Service.sleep(100);
      }
      assertThat(service.status().path("listeners").size()).isEqualTo(1);
      assertThat(refused(adminPort)).as("127.0.0.1:%d refuses connections", adminPort).isTrue();

      Service.sleep(300);
      LoadReport report = load.stop();
      System.out.println(
          "conn-per-request c=8, deploys of an edited baton.toml (command and env, a listener added, then removed), a typo and a port in use refused: "
              + report.summary());
      assertThat(report.failed())
          .as("failed: %s %s", report.failures(), report.failureMessages())
          .isZero();
      assertThat(report.ok()).isGreaterThan(100);
      status = service.status();
      assertThat(status.path("active_generation").asInt()).isEqualTo(4);
    }
  }

  private static String get(int port) throws Exception {
    try (var client = HttpClient.newHttpClient()) {
      var response =
          client.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      return response.body();
    }
  }

  private static boolean refused(int port) {
    try (var socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      return false;
    } catch (java.io.IOException e) {
      return true;
    }
  }
}
