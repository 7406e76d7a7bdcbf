package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What every command does with bad usage and with --help, before it does anything else. */
class UsageErrorsTest {
  @TempDir Path dir;

  /** Each command, with what it needs before an unknown option can be its first complaint. */
  static Stream<String> commandLines() {
    // haproxy-config's one required option first: picocli reports a missing one before an unknown.
    return Cli.COMMANDS.stream().map(c -> c.equals("haproxy-config") ? c + " --server s1=/x" : c);
  }

  static Stream<String> commands() {
    return Cli.COMMANDS.stream();
  }

  @ParameterizedTest
  @MethodSource("commandLines")
  void anUnknownOptionExitsTwoAndNamesIt(String line) {
    var command = line.split(" ")[0];
    var args = new ArrayList<>(List.of(line.split(" ")));
    args.add("--frobnicate");

    var result = Cli.run(args.toArray(String[]::new));

    assertThat(result.status()).as(result.toString()).isEqualTo(Main.USAGE);
    assertThat(result.error()).isEqualTo("Unknown option: '--frobnicate'");
    assertThat(result.err()).contains("Usage: baton " + command);
    assertThat(result.out()).isEmpty();
  }

  @ParameterizedTest
  @MethodSource("commands")
  void helpExitsZeroAndPrintsTheUsageOnStdout(String command) {
    for (var help : new String[] {"--help", "-h"}) {
      var result = Cli.run(command, help);

      assertThat(result.status()).as(result.toString()).isZero();
      assertThat(result.out()).startsWith("Usage: baton " + command);
      assertThat(result.err()).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"run", "deploy", "rollback", "status", "stop", "check", "upgrade", "logs"})
  void aConfigOptionWithoutItsFileExitsTwo(String command) {
    var result = Cli.run(command, "-c");

    assertThat(result.status()).as(result.toString()).isEqualTo(Main.USAGE);
    assertThat(result.error()).isEqualTo("Missing required parameter for option '--config' (FILE)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy", "rollback", "status", "stop", "check", "upgrade", "logs"})
  void aConfigThatCannotBeReadExitsTwoAndNamesIt(String command) {
    var file = dir.resolve("missing.toml");

    var result = Cli.run(command, "-c", file.toString());

    assertThat(result.status()).as(result.toString()).isEqualTo(Main.USAGE);
    assertThat(result.errLines()).hasSize(1);
    assertThat(result.error()).startsWith("baton: " + file + ": no such file");
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy", "rollback", "status", "stop", "check", "upgrade", "logs"})
  void aBadConfigExitsTwoAndNamesTheKey(String command) {
    var file = Cli.config(dir, "[control]", "sockett = \"x.sock\"");

    var result = Cli.run(command, "-c", file.toString());

    assertThat(result.status()).as(result.toString()).isEqualTo(Main.USAGE);
    assertThat(result.errLines()).hasSize(1);
    assertThat(result.error()).startsWith("baton: " + file).contains("sockett");
  }
}
