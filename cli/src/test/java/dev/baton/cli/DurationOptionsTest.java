package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.config.Config;
import dev.baton.haproxy.RolloutPlan;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * One duration grammar for the whole of baton: what baton.toml takes, a rollout file and every
 * duration option take too. Issue 16: {@code upgrade --timeout 1d} worked while {@code rollout
 * --drain-timeout 1d} failed.
 */
class DurationOptionsTest {
  @TempDir Path dir;

  private static final String ROLLOUT =
      "rollout --haproxy /run/haproxy/admin.sock --backend app --server s1=/srv/a/baton.sock";

  /** The command's options as picocli fills them from {@code line}, without running it. */
  private static <T> T parse(Class<T> command, String line) {
    var parsed = Main.commandLine().parseArgs(line.split(" "));
    return command.cast(parsed.subcommand().commandSpec().userObject());
  }

  @ParameterizedTest
  @CsvSource({"1d, PT24H", "1500ms, PT1.5S", "2m30s, PT2M30S"})
  void everyPlaceThatTakesADurationTakesTheSameForms(String text, Duration expected)
      throws Exception {
    var config =
        Config.parse(
            Path.of("/srv/app/baton.toml"),
            "[app]\ncommand = [\"x\"]\n[[listen]]\naddress = \"127.0.0.1:1\"\n"
                + ("[drain]\ntimeout = \"" + text + "\"\n")
                + ("[logs]\nrotate_every = \"" + text + "\"\n"));
    assertThat(config.drain().timeout()).isEqualTo(expected);
    assertThat(config.logs().rotateEvery()).contains(expected);

    var file = dir.resolve("rollout.toml");
    Files.writeString(
        file,
        String.join(
            "\n",
            "haproxy = \"/run/haproxy/admin.sock\"",
            "backend = \"app\"",
            "[[server]]",
            "name = \"s1\"",
            "target = \"/srv/a/baton.sock\"",
            "[canary]",
            "server = \"s1\"",
            "bake = \"" + text + "\"",
            "[timeouts]",
            "haproxy = \"" + text + "\"",
            "drain = \"" + text + "\"",
            "deploy = \"" + text + "\"",
            "health = \"" + text + "\""));
    var fromFile = RolloutPlan.read(file).build();
    assertThat(fromFile.canary().orElseThrow().bake()).isEqualTo(expected);
    assertThat(fromFile.timeouts())
        .isEqualTo(new RolloutPlan.Timeouts(expected, expected, expected, expected));

    var options =
        Stream.of(
                "--canary-bake",
                "--drain-timeout",
                "--deploy-timeout",
                "--health-timeout",
                "--haproxy-timeout")
            .map(option -> " " + option + " " + text)
            .collect(Collectors.joining());
    var fromOptions = parse(RolloutCommand.class, ROLLOUT + " --canary s1" + options).plan();
    assertThat(fromOptions.canary().orElseThrow().bake()).isEqualTo(expected);
    assertThat(fromOptions.timeouts())
        .isEqualTo(new RolloutPlan.Timeouts(expected, expected, expected, expected));

    var bench = parse(BenchCommand.class, "bench --duration " + text + " --rhythm " + text);
    assertThat(bench.duration).contains(expected);
    assertThat(bench.rhythm).contains(expected);
    assertThat(parse(BenchCommand.class, "bench --steady --slice " + text).slice)
        .contains(expected);
    assertThat(parse(UpgradeCommand.class, "upgrade --timeout " + text).timeout)
        .isEqualTo(expected);
    assertThat(
            parse(HaproxyConfigCommand.class, "haproxy-config --server s1=/x --inter " + text)
                .inter)
        .isEqualTo(expected);
  }

  @Test
  void theCommandLineOverridesTheRolloutFilesDurations() throws Exception {
    var file = dir.resolve("rollout.toml");
    Files.writeString(file, "[timeouts]\ndrain = \"90s\"\ndeploy = \"5m\"\n");

    var plan = parse(RolloutCommand.class, ROLLOUT + " -f " + file + " --drain-timeout 1d").plan();

    assertThat(plan.timeouts().drain()).isEqualTo(Duration.ofDays(1));
    assertThat(plan.timeouts().deploy()).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void withoutTheOptionsTheDefaultsHold() {
    assertThat(parse(RolloutCommand.class, ROLLOUT).plan().timeouts())
        .isEqualTo(RolloutPlan.Timeouts.DEFAULT);
    var bench = parse(BenchCommand.class, "bench --short").plan(false);
    assertThat(bench.duration()).isEqualTo(Duration.ofSeconds(4));
    assertThat(bench.rhythm()).isEqualTo(Duration.ofMillis(100));
    assertThat(parse(BenchCommand.class, "bench --steady").steadyPlan().slice())
        .isEqualTo(Duration.ofSeconds(1));
    assertThat(parse(UpgradeCommand.class, "upgrade").timeout).isEqualTo(Duration.ofSeconds(60));
    assertThat(parse(HaproxyConfigCommand.class, "haproxy-config --server s1=/x").inter)
        .isEqualTo(Duration.ofSeconds(2));
    // The help shows a default as it was written, not as Duration prints it ("PT1M").
    assertThat(Main.commandLine().getSubcommands().get("upgrade").getUsageMessage())
        .contains("(default: 60s)");
  }

  @Test
  void decimalsStillWorkForBenchAndZeroForItsRhythm() {
    var bench = parse(BenchCommand.class, "bench --duration 0.5s --rhythm 0");
    assertThat(bench.duration).contains(Duration.ofMillis(500));
    assertThat(bench.plan(false).rhythm()).isZero();
    assertThatThrownBy(() -> parse(BenchCommand.class, "bench --duration 0").plan(false))
        .hasMessageContaining("--duration must be more than 0");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "rollout --drain-timeout",
        "rollout --deploy-timeout",
        "rollout --health-timeout",
        "rollout --haproxy-timeout",
        "rollout --canary-bake",
        "bench --duration",
        "bench --rhythm",
        "bench --slice",
        "upgrade --timeout",
        "haproxy-config --server s1=/x --inter"
      })
  void aBadDurationIsAUsageErrorThatNamesTheOptionAndTheForms(String line) {
    var option = line.substring(line.lastIndexOf(' ') + 1);
    assertThatThrownBy(() -> parse(Object.class, line + " soon"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessage(
            "Invalid value for option '"
                + option
                + "': 'soon' is not a duration; write a number and a unit (ms, s, m, h or d),"
                + " e.g. \"250ms\", \"1.5s\", \"2m30s\" or \"1d\"; a bare number is seconds");
  }

  @ParameterizedTest
  @CsvSource({
    "rollout --drain-timeout -1s, '--drain-timeout': '-1s' is not a duration: it is negative;",
    "upgrade --timeout PT1M, '--timeout': 'PT1M' is not a duration;",
    "bench --duration 3651d, '--duration': '3651d' is longer than any duration baton can wait",
  })
  void aBadDurationExitsWithTheUsageStatusBeforeTheCommandRuns(String line, String error) {
    var err = new StringWriter();
    int status = Main.commandLine().setErr(new PrintWriter(err)).execute(line.split(" "));
    assertThat(status).isEqualTo(Main.USAGE);
    assertThat(err.toString()).startsWith("Invalid value for option " + error).contains("Usage:");
  }

  @Test
  void aZeroRolloutTimeoutIsRefusedAsInAFile() {
    assertThatThrownBy(() -> parse(RolloutCommand.class, ROLLOUT + " --drain-timeout 0").plan())
        .hasMessage("--drain-timeout must be longer than zero");
  }
}
