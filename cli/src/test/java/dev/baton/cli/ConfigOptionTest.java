package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.config.ConfigException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Which config a command reads: -c, --service, $BATON_CONFIG, then ./baton.toml. */
class ConfigOptionTest {
  private static ConfigOption parse(String... args) {
    var option = new ConfigOption();
    new CommandLine(option).parseArgs(args);
    return option;
  }

  @Test
  void withNothingGivenItIsBatonTomlHere() {
    assertThat(parse().file(Map.of())).isEqualTo(Path.of("baton.toml"));
  }

  @Test
  void batonConfigNamesTheFileWhenNoOptionDoes() {
    var env = Map.of("BATON_CONFIG", "/srv/shop/baton.toml");

    assertThat(parse().file(env)).isEqualTo(Path.of("/srv/shop/baton.toml"));
    assertThat(parse("-c", "other.toml").file(env)).isEqualTo(Path.of("other.toml"));
    assertThat(parse("--service", "shop").file(env)).isEqualTo(Path.of("/etc/baton/shop.toml"));
  }

  @Test
  void aServiceIsItsFileUnderEtcBaton() {
    assertThat(parse("--service", "shop").file(Map.of()))
        .isEqualTo(Path.of("/etc/baton/shop.toml"));
  }

  @Test
  void aConfigAndAServiceTogetherAreRefused() {
    assertThatThrownBy(() -> parse("-c", "a.toml", "--service", "shop").file(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("-c a.toml and --service shop name two configs; give one of them");
  }

  @Test
  void aServiceNameThatIsAPathIsRefused() {
    for (var name : new String[] {"../shop", "a/b", ".hidden", "x..y"}) {
      assertThatThrownBy(() -> parse("--service", name).file(Map.of()))
          .as(name)
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("--service " + name + ": a service name is letters");
    }
  }

  @Test
  void aCommandWithBothExitsTwoAndSaysWhy() {
    var result = Cli.run("status", "-c", "a.toml", "--service", "shop");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.err()).contains("name two configs; give one of them");
  }
}
