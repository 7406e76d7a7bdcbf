package dev.baton.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What TomlTable makes of each kind of TOML value. The messages are those the databind tree gave
 * before TomlTable read the token stream itself (numbers quoted as that tree printed them), so that
 * a rollout file or baton.toml that was refused is refused with the same words.
 */
class TomlTableTest {
  private static final Path FILE = Path.of("/srv/rollout.toml");

  private static final TomlTable TOP =
      TomlTable.parse(
          FILE,
          """
          a = 1.50
          b = 3e2
          c = nan
          d = -inf
          e = 5000000000
          g = 99999999999999999999
          h = 1979-05-27
          i = 0x10
          j = 2048
          k = ["x", 1]
          [t]
          zeta = 1
          alpha = 2
          env = { B = "2", A = "1" }
          """);

  @Test
  void floatsAreDurationsAsWritten() {
    assertThat(TOP.duration("a")).contains(Duration.ofMillis(1500));
    assertThatThrownBy(() -> TOP.duration("b"))
        .hasMessageStartingWith(
            "/srv/rollout.toml:2: the top level b '3E+2' is not a duration: 'e' is not a unit of"
                + " time;");
    assertThatThrownBy(() -> TOP.duration("c"))
        .hasMessageStartingWith(
            "/srv/rollout.toml:3: the top level c '\"NaN\"' is not a duration;");
    assertThatThrownBy(() -> TOP.duration("d"))
        .hasMessageStartingWith(
            "/srv/rollout.toml:4: the top level d '\"-Infinity\"' is not a duration;");
  }

  @Test
  void wholeNumbersAreIntegersAndSizesWithinRange() {
    assertThat(TOP.integer("i")).contains(16);
    assertThat(TOP.size("j")).contains(2048L);
    assertThatThrownBy(() -> TOP.integer("e"))
        .hasMessage("/srv/rollout.toml:5: the top level e is far too large a number (5000000000)");
    assertThatThrownBy(() -> TOP.integer("g"))
        .hasMessage(
            "/srv/rollout.toml:6: the top level g is far too large a number (99999999999999999999)");
    assertThatThrownBy(() -> TOP.size("g"))
        .hasMessage(
            "/srv/rollout.toml:6: the top level g '99999999999999999999' is larger than any size"
                + " baton can count; write e.g. \"100MB\"");
    assertThatThrownBy(() -> TOP.integer("a"))
        .hasMessage("/srv/rollout.toml:1: the top level a must be a whole number");
    assertThatThrownBy(() -> TOP.size("a"))
        .hasMessage(
            "/srv/rollout.toml:1: the top level a must be a size in quotes, e.g. \"100MB\"");
  }

  @Test
  void datesAreTheirText() {
    assertThat(TOP.string("h")).contains("1979-05-27");
  }

  @Test
  void arraysAndTablesKeepTheFilesOrder() {
    var t = TOP.table("t").orElseThrow();
    assertThatThrownBy(() -> t.allow("alpha", "env"))
        .hasMessage("/srv/rollout.toml:12: unknown key 'zeta' in [t]; known keys: alpha, env");
    assertThat(t.stringMap("env")).isEqualTo(Map.of("B", "2", "A", "1"));
    assertThat(List.copyOf(t.stringMap("env").keySet())).containsExactly("B", "A");
    assertThatThrownBy(() -> TOP.strings("k"))
        .hasMessage(
            "/srv/rollout.toml:10: the top level k must be an array of strings in quotes, e.g."
                + " [\"a\", \"b\"]");
  }

  @Test
  void whatIsNotTomlIsLocatedByTheParser() {
    assertThatThrownBy(() -> TomlTable.parse(FILE, "a = 1\nb = [1,\nc = = 2\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("/srv/rollout.toml:3: not valid TOML: unknown value 'c'; strings go in quotes");
  }
}
