package dev.baton.supervisor;

import static dev.baton.supervisor.GenerationState.ACTIVE;
import static dev.baton.supervisor.GenerationState.DRAINING;
import static dev.baton.supervisor.GenerationState.EXITED;
import static dev.baton.supervisor.GenerationState.FAILED;
import static dev.baton.supervisor.GenerationState.PARKED;
import static dev.baton.supervisor.GenerationState.READY;
import static dev.baton.supervisor.GenerationState.STARTING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.config.Config;
import dev.baton.os.SpawnSpec;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one table of moves a generation may make; every other move throws. */
class GenerationStateTest {
  /** The lifecycle as GenerationState's diagram draws it. */
  private static final Map<GenerationState, Set<GenerationState>> ALLOWED =
      Map.of(
          STARTING, EnumSet.of(READY, FAILED),
          READY, EnumSet.of(ACTIVE, FAILED),
          ACTIVE, EnumSet.of(PARKED, DRAINING, FAILED),
          PARKED, EnumSet.of(ACTIVE, DRAINING, FAILED),
          DRAINING, EnumSet.of(EXITED),
          EXITED, EnumSet.noneOf(GenerationState.class),
          FAILED, EnumSet.noneOf(GenerationState.class));

  private final FakeOs os = new FakeOs(new ManualClock(Harness.T0));

  private Generation generationIn(GenerationState state) {
    os.app = p -> {};
    var child =
        os.spawn(
            new SpawnSpec(
                List.of("/bin/app"), Map.of(), Path.of("/"), Optional.empty(), List.of()));
    return new Generation(
        3,
        new Config.App(List.of("/bin/app"), Map.of(), Path.of("/")),
        Harness.T0,
        child,
        /* probeAddress= */ null,
        0,
        state);
  }

  @Test
  void everyMoveTheDiagramDrawsIsAllowedAndMade() {
    ALLOWED.forEach(
        (from, targets) ->
            targets.forEach(
                to -> {
                  assertThat(from.mayMoveTo(to)).as(from + " -> " + to).isTrue();
                  var generation = generationIn(from);
                  generation.moveTo(to);
                  assertThat(generation.state()).isEqualTo(to);
                }));
  }

  @Test
  void everyOtherMoveThrowsAndLeavesTheStateAsItWas() {
    int refused = 0;
    for (var from : GenerationState.values()) {
      for (var to : GenerationState.values()) {
        if (ALLOWED.get(from).contains(to)) {
          continue;
        }
        refused++;
        assertThat(from.mayMoveTo(to)).as(from + " -> " + to).isFalse();
        var generation = generationIn(from);
        assertThatThrownBy(() -> generation.moveTo(to))
            .isInstanceOf(IllegalStateException.class)
            .hasMessage(
                "generation 3 (pid "
                    + generation.pid()
                    + ") cannot go from "
                    + from.label()
                    + " to "
                    + to.label());
        assertThat(generation.state()).isEqualTo(from);
      }
    }
    assertThat(refused).as("7 × 7 moves, 11 allowed").isEqualTo(49 - 11);
  }

  @Test
  void onlyExitedAndFailedAreNotLive() {
    assertThat(EnumSet.allOf(GenerationState.class).stream().filter(s -> !s.isLive()))
        .containsExactly(EXITED, FAILED);
  }

  @Test
  void aStateIsNamedByItsLowerCaseLabelBothWays() {
    for (var state : GenerationState.values()) {
      assertThat(state.label()).isEqualTo(state.name().toLowerCase(java.util.Locale.ROOT));
      assertThat(GenerationState.ofLabel(state.label())).isEqualTo(state);
    }
  }
}
