package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code baton run}, up to where it would start a supervisor: a config it cannot use stops it
 * first, whichever way the file was named. No supervisor is started here.
 */
class RunCommandTest {
  @TempDir Path dir;

  @Test
  void aMissingConfigExitsTwoAndNamesIt() {
    var file = dir.resolve("nowhere.toml");
    for (var args : new String[][] {{"run", "-c", file.toString()}, {"run", "--config=" + file}}) {
      var result = Cli.run(args);

      assertThat(result.status()).as(result.toString()).isEqualTo(Main.USAGE);
      assertThat(result.errLines()).hasSize(1);
      assertThat(result.error()).startsWith("baton: " + file + ": no such file");
    }
  }

  @Test
  void aBadConfigExitsTwoBeforeAnythingIsBound() throws Exception {
    var file = dir.resolve("baton.toml");
    Files.writeString(file, "[[listen]]\naddress = \"127.0.0.1:8080\"\n");

    var result = Cli.run("run", "--config", file.toString());

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines())
        .containsExactly(
            "baton: " + file + ": the top level needs [app], e.g. command = [\"./server\"]");
    assertThat(Files.exists(dir.resolve("baton.sock"))).isFalse();
  }

  @Test
  void anExtraArgumentIsAUsageError() {
    var file = Cli.config(dir);

    var result = Cli.run("run", "-c", file.toString(), "now");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).isEqualTo("Unmatched argument at index 3: 'now'");
    assertThat(Files.exists(dir.resolve("baton.sock"))).isFalse();
  }

  @Test
  void anEmptyConfigNameIsNotTakenForAFile() {
    assertThat(plainRun("run", "--config=")).isEmpty();
    assertThat(plainRun("run", "-c", "--help")).isEmpty();
    assertThat(plainRun("run", "--frobnicate=x")).isEmpty();
    assertThat(plainRun("run", "-c", "a.toml").orElseThrow().file(Map.of()))
        .isEqualTo(Path.of("a.toml"));
    assertThat(plainRun("run", "--config=b.toml").orElseThrow().file(Map.of()))
        .isEqualTo(Path.of("b.toml"));
    assertThat(plainRun("run").orElseThrow().file(Map.of())).isEqualTo(Path.of("baton.toml"));
    assertThat(plainRun("run").orElseThrow().file(Map.of("BATON_CONFIG", "/srv/x.toml")))
        .isEqualTo(Path.of("/srv/x.toml"));
    assertThat(plainRun("run", "--service", "shop").orElseThrow().file(Map.of()))
        .isEqualTo(Path.of("/etc/baton/shop.toml"));
    assertThat(plainRun("run", "--service=shop").orElseThrow().file(Map.of()))
        .isEqualTo(Path.of("/etc/baton/shop.toml"));
  }

  private static java.util.Optional<ConfigOption> plainRun(String... args) {
    return PlainArgs.parse(args).map(PlainArgs::config);
  }
}
