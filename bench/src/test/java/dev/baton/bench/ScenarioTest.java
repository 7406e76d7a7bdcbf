package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ScenarioTest {
  @Test
  void scenariosRunBaselineFirstWhateverTheOrderAsked() {
    assertThat(Scenario.parse("baton,stop-start,none", false, false))
        .containsExactly(Scenario.NONE, Scenario.STOP_START, Scenario.BATON);
  }

  @Test
  void reuseportBringsItsMigrateVariantOnlyWhereItCanBeSet() {
    assertThat(Scenario.parse("reuseport", true, false))
        .containsExactly(Scenario.REUSEPORT, Scenario.REUSEPORT_MIGRATE);
    assertThat(Scenario.parse("reuseport", false, false)).containsExactly(Scenario.REUSEPORT);
  }

  @Test
  void anUnknownScenarioIsNamedWithTheKnownOnes() {
    assertThatThrownBy(() -> Scenario.parse("none,blue-green", false, false))
        .hasMessageContaining("'blue-green'")
        .hasMessageContaining("none,stop-start,reuseport,baton");
  }

  @Test
  void anUnknownLoadModeIsNamedWithTheKnownOnes() {
    assertThatThrownBy(() -> LoadMode.parse("c1,pipelined", 50))
        .hasMessageContaining("'pipelined'");
    assertThat(LoadMode.parse("keep-alive,c1", 16))
        .extracting(LoadMode::name)
        .containsExactly("c=16 keep-alive", "c=1");
  }

  @Test
  void aZeroDurationIsRefusedBeforeAnythingStarts() {
    assertThatThrownBy(
            () ->
                new BenchPlan(
                    List.of(Scenario.NONE),
                    List.of(LoadMode.one()),
                    false,
                    Duration.ZERO,
                    Long.MAX_VALUE,
                    Duration.ofMillis(100),
                    Path.of("out"),
                    Optional.empty(),
                    false,
                    SampleKind.JVM,
                    List.of()))
        .hasMessageContaining("--duration must be more than 0");
  }

  @Test
  void withARunningServiceOnlyTheBatonScenarioApplies() {
    assertThatThrownBy(
            () ->
                new BenchPlan(
                    List.of(Scenario.STOP_START, Scenario.BATON),
                    List.of(LoadMode.one()),
                    false,
                    Duration.ofSeconds(1),
                    Long.MAX_VALUE,
                    Duration.ofMillis(100),
                    Path.of("out"),
                    Optional.of(Path.of("baton.toml")),
                    false,
                    SampleKind.JVM,
                    List.of()))
        .hasMessageContaining("only the baton scenario");
  }
}
