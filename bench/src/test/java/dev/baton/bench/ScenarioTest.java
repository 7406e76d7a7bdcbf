package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.config.Config;
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
  void batonBpfRunsByItsOwnNameAfterBaton() {
    assertThat(Scenario.parse("baton-bpf,none,baton", false, false))
        .containsExactly(Scenario.NONE, Scenario.BATON, Scenario.BATON_BPF);
    assertThat(Scenario.parse("baton", true, true))
        .containsExactly(Scenario.BATON_STEADY, Scenario.BATON);
  }

  @Test
  void batonBpfSteersTheSampleConfigsListenerAndChangesNothingElse() {
    var sample =
        new Sample(SampleKind.LIGHT, List.of("python3", "-S", "light.py"), "notify = true\n");
    var shared = BatonService.sampleConfig(sample, 0, List.of());
    var steered = BatonService.sampleConfig(sample, 0, List.of(), Scenario.BATON_BPF.steer());

    assertThat(steered.replace("steer = \"bpf\"\n", "")).isEqualTo(shared);
    var config = Config.parse(Path.of("baton.toml"), steered);
    assertThat(config.listeners())
        .singleElement()
        .satisfies(l -> assertThat(l.steer()).isEqualTo(Config.Steer.BPF));
    assertThat(config.park()).isEqualTo(Config.parse(Path.of("baton.toml"), shared).park());
    assertThat(config.drain()).isEqualTo(Config.parse(Path.of("baton.toml"), shared).drain());
    assertThat(Config.parse(Path.of("baton.toml"), shared).listeners().getFirst().steer())
        .isEqualTo(Config.Steer.SHARED);
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

  @Test
  void withARunningServiceBatonBpfIsRefusedSinceItsConfigSteers() {
    assertThatThrownBy(
            () ->
                new BenchPlan(
                    List.of(Scenario.BATON, Scenario.BATON_BPF),
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
        .hasMessageContaining("[baton-bpf] need the bundled sample");
  }
}
