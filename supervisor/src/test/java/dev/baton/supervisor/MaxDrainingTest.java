package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code [drain] max_draining}: generations whose drain would outlast many deploys (a grace of an
 * hour, an app that ignores its drain signal) do not pile up. Beyond max_draining the oldest are
 * hurried: DRAIN-NOW (no second signal for other apps), then SIGKILL after {@code [drain] hurry}.
 */
class MaxDrainingTest {
  /** A grace of an hour; two may drain at once; the oldest beyond them are killed 1 s after. */
  static final String BOUNDED =
      Harness.BASE.replace(
          "timeout = \"300ms\"", "timeout = \"1h\"\nmax_draining = 2\nhurry = \"1s\"");

  static final Duration HURRY = Duration.ofSeconds(1);

  @TempDir Path dir;
  private Harness h;

  @BeforeEach
  void harness() {
    h = new Harness(dir);
    // Apps that say READY=1 and never drain on SIGTERM: only a SIGKILL ends them.
    h.apps(
        p -> {
          p.ready();
          p.drainsOn = null;
        });
  }

  @AfterEach
  void invariants() {
    h.checkInvariants();
  }

  private long live(String state) {
    return h.supervisor.generations().live().stream()
        .filter(g -> g.state().label().equals(state))
        .count();
  }

  private long unhurriedDraining() {
    return h.supervisor.generations().draining().stream().filter(g -> !g.hurried).count();
  }

  private long alive() {
    return h.os.processes.stream().filter(p -> !p.hasExited()).count();
  }

  @Test
  void fiveDeploysInARowLeaveAtMostTwoDrainingAndKillTheOldestAtHurry() {
    h.start(BOUNDED);
    for (int deploy = 1; deploy <= 5; deploy++) {
      h.deployed();
      // Just hurried, the oldest still runs until its SIGKILL: at most one more than max_draining.
      assertThat(unhurriedDraining()).as("after deploy %d", deploy).isLessThanOrEqualTo(2);
      assertThat(live("draining")).as("after deploy %d", deploy).isLessThanOrEqualTo(3);
      h.advance(HURRY);
      assertThat(live("draining")).as("%d s after deploy %d", 1, deploy).isLessThanOrEqualTo(2);
      assertThat(live("active")).isEqualTo(1);
      assertThat(alive()).as("2 draining + 1 active").isLessThanOrEqualTo(3);
    }
    // Generation 6 active, 4 and 5 draining at their own pace; 1, 2 and 3 were hurried at the
    // third, fourth and fifth deploys (2 s, 3 s and 4 s in), and killed 1 s later.
    assertThat(h.status().activeGeneration()).contains(6);
    for (int gen = 1; gen <= 3; gen++) {
      var process = h.os.process(gen - 1);
      assertThat(process.signals)
          .as("generation %d", gen)
          .containsExactly(Signal.TERM, Signal.KILL);
      assertThat(h.generation(gen).exit()).contains("killed by SIGKILL");
      assertThat(h.generation(gen).exited()).contains(Harness.T0.plus(Duration.ofSeconds(gen + 2)));
      assertThat(h.os.groupSignals).contains(process.pid + ":KILL");
    }
    for (int gen = 4; gen <= 5; gen++) {
      assertThat(h.os.process(gen - 1).signals)
          .as("generation %d", gen)
          .containsExactly(Signal.TERM);
      assertThat(h.generation(gen).state()).isEqualTo("draining");
    }
    assertThat(h.os.process(5).signals).isEmpty();
  }

  @Test
  void hurriedBatonAppsHearDrainNowOnceInsteadOfASecondSignal() {
    h.apps(
        p -> {
          p.connectControl();
          p.batonReady();
          p.drainsOn = null;
        });
    h.start(BOUNDED + "\n[park]\nmax = 1\n");
    for (int deploy = 1; deploy <= 5; deploy++) {
      h.deployed();
      assertThat(unhurriedDraining()).as("after deploy %d", deploy).isLessThanOrEqualTo(2);
      h.advance(HURRY);
      assertThat(live("draining")).as("after deploy %d", deploy).isLessThanOrEqualTo(2);
      assertThat(live("parked")).isLessThanOrEqualTo(1);
      assertThat(alive()).as("2 draining + 1 parked + 1 active").isLessThanOrEqualTo(4);
    }
    // 6 active, 5 parked, 3 and 4 draining; 1 and 2 hurried at the fourth and fifth deploys.
    assertThat(h.status().parked()).containsExactly(5);
    for (int gen = 1; gen <= 2; gen++) {
      var process = h.os.process(gen - 1);
      assertThat(process.heard)
          .as("generation %d", gen)
          .containsExactly("OK", "RESUME", "PAUSE", "DRAIN-NOW");
      assertThat(process.signals).containsExactly(Signal.TERM, Signal.KILL);
      assertThat(h.generation(gen).exited()).contains(Harness.T0.plus(Duration.ofSeconds(gen + 3)));
    }
    for (int gen = 3; gen <= 4; gen++) {
      assertThat(h.os.process(gen - 1).heard).doesNotContain("DRAIN-NOW");
      assertThat(h.os.process(gen - 1).signals).containsExactly(Signal.TERM);
    }
  }

  @Test
  void aBatonAppWithoutItsSessionIsHurriedWithTheDrainSignalAgain() {
    h.apps(
        p -> {
          p.connectControl();
          p.batonReady();
          p.drainsOn = null;
        });
    h.start(BOUNDED.replace("max_draining = 2", "max_draining = 1") + "\n[park]\nmax = 0\n");
    h.deployed();
    h.os.process(0).sayRaw("x".repeat(AppControl.MAX_LINE + 1)); // cut off by the supervisor
    h.drive();
    assertThat(h.os.process(0).connectedToControl()).isFalse();
    h.deployed();
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.os.process(0).heard).doesNotContain("DRAIN-NOW");
  }

  @Test
  void aHurriedGenerationIsKilledNoLaterThanItsOriginalGrace() {
    // A grace of 1.5 s and a hurry of 5 s: the grace ends first, and holds.
    h.start(
        BOUNDED
            .replace("timeout = \"1h\"", "timeout = \"1500ms\"")
            .replace("max_draining = 2", "max_draining = 1")
            .replace("hurry = \"1s\"", "hurry = \"5s\""));
    try (var log = new LogLines(Retire.class)) {
      h.deployed(); // generation 1 drains from 0 ms: SIGKILL at 1500 ms
      h.advanceMillis(1000);
      h.deployed(); // 1 is hurried as the deploy starts, with 500 ms of its grace left; 2 drains
      assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
      h.advanceMillis(499);
      assertThat(h.generation(1).state()).isEqualTo("draining");
      h.advanceMillis(1);
      assertThat(h.generation(1).exit()).contains("killed by SIGKILL");
      assertThat(h.generation(1).exited()).contains(Harness.T0.plusMillis(1500));
      assertThat(log.lines())
          .contains(
              "WARN hurrying generation 1 (pid 1000): 1 draining and a deploy under way,"
                  + " max_draining 1;"
                  + " it still holds an unknown number of connections; SIGKILL in 500 ms")
          .contains(
              "WARN generation 1 (pid 1000) did not drain within 1500 ms; sending SIGKILL to its"
                  + " process group");
    }
  }

  @Test
  void eachGenerationIsHurriedOnce() {
    h.start(BOUNDED.replace("max_draining = 2", "max_draining = 1"));
    h.deployed();
    h.deployed(); // generation 1 hurried
    h.deployed(); // 1 (still alive) and 2 beyond max: only 2 is new to it
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM);
    h.advance(HURRY);
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM, Signal.KILL);
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM, Signal.KILL);
    assertThat(h.supervisor.deployRecord().metrics().render(h.status(), new LinkedHashMap<>(), "x"))
        .contains("baton_drains_hurried_total 2\n");
  }

  @Test
  void withMaxDrainingLargeEveryGenerationDrainsAtItsOwnPace() {
    h.start(BOUNDED.replace("max_draining = 2", "max_draining = 100"));
    for (int deploy = 1; deploy <= 5; deploy++) {
      h.deployed();
      h.advance(HURRY);
    }
    assertThat(live("draining")).isEqualTo(5);
    for (int gen = 1; gen <= 5; gen++) {
      assertThat(h.os.process(gen - 1).signals)
          .as("generation %d", gen)
          .containsExactly(Signal.TERM);
    }
    assertThat(h.os.groupSignals).isEmpty();
    assertThat(h.supervisor.deployRecord().metrics().render(h.status(), new LinkedHashMap<>(), "x"))
        .contains("# TYPE baton_drains_hurried_total counter\n")
        .contains("baton_drains_hurried_total 0\n")
        .contains("baton_generations{state=\"draining\"} 5\n");
  }

  @Test
  void theLogLineCountsTheConnectionsTheHurriedGenerationStillHolds() {
    h.start(BOUNDED);
    h.os.tcpConnections.put(1000, 37);
    try (var log = new LogLines(Retire.class)) {
      h.deployed();
      h.deployed();
      // Two draining as the third deploy starts, which will make it three: generation 1 (pid
      // 1000) is hurried then, so that it is gone by the promotion.
      h.deployed();
      assertThat(log.lines())
          .contains(
              "WARN hurrying generation 1 (pid 1000): 2 draining and a deploy under"
                  + " way, max_draining 2; it still holds 37 connections; SIGKILL in 1000 ms");
      h.advance(HURRY);
      assertThat(log.lines())
          .contains(
              "WARN generation 1 (pid 1000) was hurried and did not exit within 1000 ms; sending"
                  + " SIGKILL to its process group");
    }
    var metrics =
        h.supervisor.deployRecord().metrics().render(h.status(), new LinkedHashMap<>(), "x");
    assertThat(metrics)
        .contains("baton_drains_hurried_total 1\n")
        .contains("baton_generations{state=\"draining\"} 2\n");
  }

  @Test
  void aGenerationThatExitsOnItsFirstSignalIsNeverHurried() {
    h.apps(FakeProcess::ready); // drains on TERM
    h.start(BOUNDED.replace("max_draining = 2", "max_draining = 1"));
    for (int deploy = 1; deploy <= 3; deploy++) {
      h.deployed();
    }
    for (int gen = 1; gen <= 3; gen++) {
      assertThat(h.os.process(gen - 1).signals).containsExactly(Signal.TERM);
    }
    assertThat(h.supervisor.deployRecord().metrics().render(h.status(), new LinkedHashMap<>(), "x"))
        .contains("baton_drains_hurried_total 0\n");
  }

  @Test
  void aRestartedSupervisorCountsTheDrainingGenerationsItTookBack() {
    h.start(BOUNDED);
    h.deployed();
    h.deployed(); // 1 and 2 draining: no more than max_draining
    h.crash();
    h.start(BOUNDED);
    assertThat(live("draining")).isEqualTo(2);
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    h.deployed(); // 1, 2 and 3 draining: 1, taken back, is the oldest
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM);
    h.advance(HURRY);
    assertThat(h.generation(1).state()).isEqualTo("exited");
    assertThat(live("draining")).isEqualTo(2);
  }

  @Test
  void aRestartedSupervisorWithALowerMaxHurriesTheOldestItTookBack() {
    h.start(BOUNDED.replace("max_draining = 2", "max_draining = 100"));
    h.deployed();
    h.deployed();
    h.deployed(); // 1, 2 and 3 draining
    h.crash();
    h.start(BOUNDED); // max_draining = 2
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM);
    h.advance(HURRY);
    assertThat(h.generation(1).state()).isEqualTo("exited");
    assertThat(live("draining")).isEqualTo(2);
    assertThat(h.status().activeGeneration()).contains(4);
  }
}
