package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code baton demo}'s usage errors, found before the sample is started. */
class DemoCommandTest {
  @Test
  void zeroDeploysIsAUsageError() {
    var result = Cli.run("demo", "--deploys", "0");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines())
        .containsExactly("baton demo: deploys, connections and the duration must be more than 0");
  }

  @Test
  void zeroConcurrencyIsAUsageError() {
    var result = Cli.run("demo", "--short", "--concurrency", "0");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).startsWith("baton demo: ");
  }

  @Test
  void deploysThatAreNotANumberAreAUsageError() {
    var result = Cli.run("demo", "--deploys", "many");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).contains("--deploys").contains("'many'");
  }
}
