package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** {@code baton check}: a config read and printed with its defaults, touching nothing. */
class CheckCommandTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;

  @Test
  void aGoodConfigIsOkAndPrintedWithItsDefaults() {
    var file = Cli.config(dir);

    var result = Cli.run("check", "-c", file.toString());

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(result.outLines().getFirst()).isEqualTo(file + ": ok");
    var json = JSON.readTree(result.out().substring(result.out().indexOf('\n') + 1));
    assertThat(json.get("control").get("socket").asString())
        .isEqualTo(dir.resolve("baton.sock").toString());
    assertThat(result.outLines().size()).isGreaterThan(10); // indented
    assertThat(Files.exists(dir.resolve("baton.sock"))).isFalse();
  }

  @Test
  void jsonIsOneLineOfTheEffectiveSettings() {
    var file = Cli.config(dir, "[drain]", "timeout = \"90s\"");

    var result = Cli.run("check", "-c", file.toString(), "--json");

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(result.outLines()).hasSize(1);
    var json = JSON.readTree(result.out());
    assertThat(json.get("app").get("command").values())
        .extracting(n -> n.asString())
        .containsExactly("./server", "--port-from-fd");
    assertThat(json.get("listeners").get(0).get("name").asString()).isEqualTo("http");
    assertThat(json.get("listeners").get(0).get("backlog").asInt()).isEqualTo(4096);
    assertThat(json.get("park").get("max").asInt()).isEqualTo(1);
    assertThat(json.get("drain").get("timeout").toString()).isEqualTo("\"PT1M30S\"");
    assertThat(json.get("control").get("socket").asString())
        .isEqualTo(dir.resolve("baton.sock").toString());
  }

  @Test
  void aBadConfigIsAUsageErrorNamingTheFileAndTheKey() throws Exception {
    var file = Cli.config(dir, "[drain]", "timeout = \"soon\"");

    var result = Cli.run("check", "-c", file.toString());

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines()).hasSize(1);
    assertThat(result.error()).startsWith("baton: " + file).contains("timeout").contains("soon");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void anUnknownKeyIsAUsageError() {
    var file = Cli.config(dir, "[drain]", "timout = \"10s\"");

    var result = Cli.run("check", "-c", file.toString(), "--json");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).startsWith("baton: " + file).contains("timout");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void aMissingFileIsAUsageError() {
    var file = dir.resolve("nowhere.toml");

    var result = Cli.run("check", "-c", file.toString());

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines()).hasSize(1);
    assertThat(result.error()).startsWith("baton: " + file);
  }
}
