package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code baton rollout}'s usage errors, all found before HAProxy or any supervisor is contacted
 * (nothing listens at the addresses given here).
 */
class RolloutCommandTest {
  private static final String HAPROXY = "/nonexistent/haproxy.sock";

  @TempDir Path dir;

  @Test
  void nothingGivenNamesTheFirstThingMissing() {
    var result = Cli.run("rollout");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines())
        .containsExactly(
            "baton: no HAProxy given: pass --haproxy with its stats socket"
                + " (/run/haproxy/admin.sock) or host:port, or set haproxy in the rollout file");
  }

  @Test
  void noServersIsAUsageError() {
    var result = Cli.run("rollout", "--haproxy", HAPROXY, "--backend", "app");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).startsWith("baton: no servers given");
  }

  @Test
  void aServerWithoutItsTargetIsAUsageError() {
    var result = Cli.run("rollout", "--haproxy", HAPROXY, "--backend", "app", "--server", "s1");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).startsWith("baton: --server 's1' must be NAME=TARGET");
  }

  @Test
  void aCanaryThatIsNotAServerIsAUsageError() {
    var result =
        Cli.run(
            "rollout",
            "--haproxy",
            HAPROXY,
            "--backend",
            "app",
            "--server",
            "s1=" + dir.resolve("baton.toml"),
            "--canary",
            "s9");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).startsWith("baton: --canary s9 is not one of the servers given");
  }

  @Test
  void aBatchThatIsNotANumberIsAUsageError() {
    var result = Cli.run("rollout", "--batch", "two");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).contains("--batch").contains("'two'");
  }

  @Test
  void aBadRolloutFileIsAUsageError() throws Exception {
    var file = dir.resolve("rollout.toml");
    Files.writeString(file, "backend = \"app\"\nbatch = \"many\"\n");

    var result = Cli.run("rollout", "-f", file.toString());

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines()).hasSize(1);
    assertThat(result.error()).startsWith("baton: " + file).contains("batch");
  }
}
