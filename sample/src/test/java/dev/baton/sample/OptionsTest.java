package dev.baton.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptionsTest {

  @Test
  void defaultsServeHealthyOn8080() {
    Options options = Options.parse(List.of(), Map.of());

    assertThat(options.generation()).isEqualTo("0");
    assertThat(options.port()).isEqualTo(8080);
    assertThat(options.reusePort()).isFalse();
    assertThat(options.exitAtStart()).isEmpty();
    assertThat(options.hang()).isFalse();
    assertThat(options.startupDelay()).isZero();
    assertThat(options.healthy()).isTrue();
    assertThat(options.failHealthAfter()).isEmpty();
    assertThat(options.work()).isZero();
    assertThat(options.idleClose()).isEqualTo(Duration.ofSeconds(2));
    assertThat(options.drainTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void readsEveryFlag() {
    Options options =
        Options.parse(
            List.of(
                "--port=9000",
                "--reuse-port",
                "--exit-at-start=3",
                "--hang",
                "--startup-delay=250",
                "--health=fail",
                "--fail-health-after=1m",
                "--fail-after=2m",
                "--work",
                "20ms",
                "--work-cpu=400",
                "--idle-close=3s",
                "--drain-timeout=10s"),
            Map.of("BATON_GENERATION", "12"));

    assertThat(options)
        .isEqualTo(
            new Options(
                "12",
                9000,
                true,
                java.util.OptionalInt.of(3),
                true,
                Duration.ofMillis(250),
                false,
                java.util.Optional.of(Duration.ofMinutes(1)),
                java.util.Optional.of(Duration.ofMinutes(2)),
                Duration.ofMillis(20),
                400,
                Duration.ofSeconds(3),
                Duration.ofSeconds(10)));
  }

  @Test
  void readsSampleVariablesAndLetsFlagsWin() {
    Options options =
        Options.parse(
            List.of("--work=5ms"),
            Map.of("SAMPLE_WORK", "500ms", "SAMPLE_HEALTH", "fail", "SAMPLE_EXIT_AT_START", "4"));

    assertThat(options.work()).isEqualTo(Duration.ofMillis(5));
    assertThat(options.healthy()).isFalse();
    assertThat(options.exitAtStart()).hasValue(4);
  }

  @Test
  void rejectsUnknownOptionsAndBadValuesNamingThem() {
    assertThatThrownBy(() -> Options.parse(List.of("--colour=red"), Map.of()))
        .hasMessage("unknown option --colour");
    assertThatThrownBy(() -> Options.parse(List.of("--work=soon"), Map.of()))
        .hasMessage("--work=soon is not valid; expected a duration like 500ms, 2s or 1m");
    assertThatThrownBy(() -> Options.parse(List.of("--health=meh"), Map.of()))
        .hasMessageContaining("expected ok or fail");
    assertThatThrownBy(() -> Options.parse(List.of("--port=70000"), Map.of()))
        .hasMessageContaining("from 0 to 65535");
    assertThatThrownBy(() -> Options.parse(List.of("--port"), Map.of()))
        .hasMessage("--port needs a value");
    assertThatThrownBy(() -> Options.parse(List.of("serve"), Map.of()))
        .hasMessage("unexpected argument serve");
  }
}
