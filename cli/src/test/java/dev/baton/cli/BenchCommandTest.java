package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code baton bench}'s usage errors, all found before anything is started. */
class BenchCommandTest {
  @Test
  void steadyOptionsWithoutSteadyAreAUsageError() {
    var result = Cli.run("bench", "--short", "--rounds", "3");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines())
        .containsExactly(
            "baton bench: --rounds, --slice, --placement and --load-threads are for --steady;"
                + " add --steady, or drop them");
  }

  @Test
  void steadyRefusesTheDeployScenariosOptions() {
    var result = Cli.run("bench", "--steady", "--short", "--scenarios", "none", "--rhythm", "1s");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines())
        .containsExactly(
            "baton bench: --steady does not take --scenarios (it runs its own five servers),"
                + " --rhythm (nothing is deployed)");
  }

  @Test
  void aConcurrencyOfZeroIsAUsageError() {
    var result = Cli.run("bench", "--short", "--concurrency", "0");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines())
        .containsExactly("baton bench: --concurrency must be at least 1, was 0");
  }

  @Test
  void anUnknownScenarioIsAUsageError() {
    var result = Cli.run("bench", "--short", "--scenarios", "blue-green");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines()).hasSize(1);
    assertThat(result.error()).startsWith("baton bench: ").contains("blue-green");
  }

  @Test
  void aConcurrencyThatIsNotANumberIsAUsageError() {
    var result = Cli.run("bench", "--concurrency", "lots");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).contains("--concurrency").contains("'lots'");
  }

  @Test
  void longLivedOptionsWithoutLongLivedAreAUsageError() {
    var result = Cli.run("bench", "--clients", "200");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines())
        .containsExactly(
            "baton bench: --clients, --drain-window, --max-draining and --reconnect-jitter are for"
                + " --long-lived; add --long-lived ws (or h2c), or drop them");
  }

  @Test
  void longLivedRefusesTheLoadOptionsAndUnknownKinds() {
    var refused = Cli.run("bench", "--long-lived", "ws", "--concurrency", "5", "--steady");
    var unknown = Cli.run("bench", "--long-lived", "sse");

    assertThat(refused.status()).isEqualTo(Main.USAGE);
    assertThat(refused.errLines())
        .containsExactly(
            "baton bench: --long-lived does not take --steady, --modes, --concurrency, --keepalive,"
                + " --post and --requests (use --clients)");
    assertThat(unknown.status()).isEqualTo(Main.USAGE);
    assertThat(unknown.errLines())
        .containsExactly("baton bench: --long-lived must be ws or h2c, was 'sse'");
  }
}
