package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code baton} itself: no command, an unknown one, --help, --version, help COMMAND. */
class MainTest {
  @Test
  void noCommandIsAUsageError() {
    var result = Cli.run();

    assertThat(result.status()).as(result.toString()).isEqualTo(Main.USAGE);
    assertThat(result.error()).isEqualTo("Missing required subcommand");
    assertThat(result.err()).contains("Usage: baton").contains("deploy").contains("rollback");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void anUnknownCommandIsAUsageErrorThatNamesIt() {
    var result = Cli.run("deplyo");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).isEqualTo("Unmatched argument at index 0: 'deplyo'");
    assertThat(result.err()).contains("Did you mean: baton deploy");
  }

  @Test
  void helpListsEveryCommandAndTheExitStatuses() {
    var result = Cli.run("--help");

    assertThat(result.status()).isZero();
    assertThat(result.out())
        .contains(Cli.COMMANDS)
        .contains("  3  the supervisor could not be reached");
    assertThat(result.err()).isEmpty();
  }

  @Test
  void helpOfACommandIsItsUsage() {
    var result = Cli.run("help", "deploy");

    assertThat(result.status()).isZero();
    assertThat(result.out()).startsWith("Usage: baton deploy").contains("--wait", "--env");
  }

  @Test
  void versionSaysBatonAndJava() {
    var result = Cli.run("--version");

    assertThat(result.status()).isZero();
    assertThat(result.outLines()).hasSize(1);
    assertThat(result.out()).startsWith("baton ").contains("(Java " + Runtime.version() + ")");
    assertThat(Cli.run("-V").out()).isEqualTo(result.out());
  }

  @Test
  void versionWithoutPicocliIsWhatPicocliPrints() {
    var picocli = new java.io.StringWriter();
    Main.commandLine().printVersionHelp(new java.io.PrintWriter(picocli, true));

    assertThat(Cli.run("--version").out().strip()).isEqualTo(picocli.toString().strip());
  }
}
