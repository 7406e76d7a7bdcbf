package dev.baton.haproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HaproxyConfigTest {
  @TempDir Path dir;

  private final HaproxyConfig config =
      new HaproxyConfig(
          "app",
          List.of(
              new HaproxyConfig.Server(
                  "s1", "127.0.0.1:8081", Optional.of(new InetSocketAddress("127.0.0.1", 7071))),
              new HaproxyConfig.Server("s2", "127.0.0.1:8082", Optional.empty())),
          "/healthz",
          Duration.ofSeconds(2));

  @Test
  void theBackendRetriesOnlyWhatIsSafeToSendTwice() {
    var text = config.backend();

    assertThat(text)
        .contains(
            "option httpchk",
            "http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host baton-check",
            "http-check expect status 200",
            "retry-on conn-failure empty-response response-timeout 503",
            "retries 3",
            "option redispatch 1",
            "http-request disable-l7-retry if !METH_GET !METH_OPTIONS",
            "server s1 127.0.0.1:8081 check weight 100 agent-check agent-addr 127.0.0.1 agent-port 7071 agent-inter 2s agent-send \"app/s1\\n\"",
            "server s2 127.0.0.1:8082 check weight 100\n");
  }

  @Test
  void haproxy26AcceptsTheWholeConfig() throws Exception {
    assumeTrue(Files.isExecutable(RunningHaproxy.BINARY), "HAProxy is installed");
    var file = dir.resolve("haproxy.cfg");
    Files.writeString(
        file, config.standalone("127.0.0.1:8080", dir.resolve("admin.sock").toString()));

    var check =
        new ProcessBuilder(RunningHaproxy.BINARY.toString(), "-c", "-f", file.toString())
            .redirectErrorStream(true)
            .start();
    var output = new String(check.getInputStream().readAllBytes());

    assertThat(check.waitFor()).as(output).isZero();
    assertThat(output).contains("Configuration file is valid").doesNotContain("WARNING");
  }
}
