package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command lines read without picocli mean what picocli makes of them, or go to picocli. */
class PlainArgsTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "status",
        "status --json",
        "status -c /srv/a.toml",
        "status --json --config=/srv/a.toml",
        "status --service shop --json",
        "stop --service=shop",
        "deploy",
        "deploy --wait --json -c a.toml",
        "rollback --wait",
        "rollback --service shop --wait --json",
        "run -c a.toml",
        "run --service=shop",
      })
  void whatItTakesItReadsAsPicocliDoes(String line) {
    var args = line.split(" ");
    var plain = PlainArgs.parse(args).orElseThrow();

    var parsed = Main.commandLine().parseArgs(args).subcommand();
    Object command = parsed.commandSpec().userObject();
    assertThat(plain.command()).isEqualTo(parsed.commandSpec().name());
    assertThat(field(command, "config")).usingRecursiveComparison().isEqualTo(plain.config());
    assertThat(plain.toCommand()).usingRecursiveComparison().isEqualTo(command);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "status --json --json",
        "status -c a.toml -c b.toml",
        "status --config=",
        "status -c",
        "status -c --json",
        "status --wait",
        "stop --help",
        "deploy -- ./server --v2",
        "deploy --env A=1",
        "rollback --reason bad",
        "run --json",
        "run -ca.toml",
        "statsu",
        "check",
      })
  void anythingElseGoesToPicocli(String line) {
    assertThat(PlainArgs.parse(line.isEmpty() ? new String[0] : line.split(" "))).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"status", "stop", "deploy", "rollback"})
  void theServiceNamesItsFileAsWithPicocli(String command) {
    var plain = PlainArgs.parse(command, "--service", "shop").orElseThrow();
    assertThat(plain.config().file(Map.of())).hasToString("/etc/baton/shop.toml");
    assertThat(plain.toCommand()).isInstanceOf(commandClass(command));
  }

  private static Class<?> commandClass(String command) {
    return Main.commandLine()
        .getSubcommands()
        .get(command)
        .getCommandSpec()
        .userObject()
        .getClass();
  }

  private static Object field(Object command, String name) {
    try {
      var f = command.getClass().getDeclaredField(name);
      f.setAccessible(true);
      return f.get(command);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}
