package dev.baton.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
  @ParameterizedTest
  @CsvSource({
    "250ms, PT0.25S",
    "1500ms, PT1.5S",
    "10s, PT10S",
    "10, PT10S",
    "0.5s, PT0.5S",
    "1.5s, PT1.5S",
    "0.5, PT0.5S",
    "2m, PT2M",
    "2m30s, PT2M30S",
    "'1h 30m', PT1H30M",
    "'10 s', PT10S",
    "1h, PT1H",
    "1d, PT24H",
    "1d12h, PT36H",
    "1.5h, PT1H30M",
    "0.25ms, PT0.00025S",
    "10MS, PT0.01S",
    "' 30s ', PT30S",
    "0, PT0S",
    "0s, PT0S",
    "3650d, PT87600H",
  })
  void takesUnitsDecimalsAndCompounds(String text, Duration expected) {
    assertThat(Durations.parse(text)).isEqualTo(expected);
  }

  @Test
  void aBadDurationIsQuotedWithWhatIsWrongAndTheFormsThatAreAccepted() {
    assertThatThrownBy(() -> Durations.parse("soon"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "'soon' is not a duration; write a number and a unit (ms, s, m, h or d),"
                + " e.g. \"250ms\", \"1.5s\", \"2m30s\" or \"1d\"; a bare number is seconds");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "''| it is empty",
        "'  '| it is empty",
        "-1s| it is negative",
        "-0.0| it is negative",
        "10x| 'x' is not a unit of time",
        "10sec| 'sec' is not a unit of time",
        "10 mins| 'mins' is not a unit of time",
        "2m30| its last number has no unit",
        "30s2m| its units must go from the largest down, each once",
        "1m1m| its units must go from the largest down, each once",
        "0.0000000001s| it is finer than a nanosecond",
        "1.5.5s| is not a duration; write",
        "s| is not a duration; write",
        "+1s| is not a duration; write",
        "PT1S| is not a duration; write",
      })
  void refusesWhatIsNotADurationSayingWhy(String text, String why) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("'" + text + "' is not a duration")
        .hasMessageContaining(why)
        .hasMessageContaining("e.g. \"250ms\"");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "3651d",
        "9223372036854775807h",
        "99999999999999999999s",
        "3650d1ms",
        "87601h",
        "99999999999999999999999999999999999999999999999999"
      })
  void refusesWhatNoTimerCouldWaitFor(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "'"
                + text
                + "' is longer than any duration baton can wait (at most 3650d); write e.g. \"10s\"");
  }
}
