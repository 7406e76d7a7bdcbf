package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Signal;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After promotion the new generation keeps being probed; it is rolled back on its own when it turns
 * bad.
 */
class BakeTest {
  static final String BAKE =
      Harness.BASE.replace("notify = true", "http = \"/healthz\"")
          + "\n[bake]\nduration = \"10s\"\ninterval = \"1s\"\nfailures = 2\n";

  @TempDir Path dir;
  private Harness h;

  @BeforeEach
  void harness() {
    h = new Harness(dir);
  }

  @AfterEach
  void invariants() {
    h.checkInvariants();
  }

  private FakeProcess v2() {
    h.deployed();
    return h.os.process(1);
  }

  @Test
  void aProbeThatFailsTwiceInARowRollsBackToTheParkedGenerationOnItsOwn() {
    h.batonApps();
    h.start(BAKE);
    var v2 = v2();
    v2.health = 500;
    h.advance(Duration.ofSeconds(1));
    assertThat(h.status().activeGeneration()).as("one failure is not enough").contains(2);
    h.advance(Duration.ofSeconds(1));
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.status().history().getLast())
        .isEqualTo(
            new Status.HistoryEntry(
                Harness.T0.plusSeconds(2),
                DeployKind.ROLLBACK,
                1,
                Optional.of(2),
                "bake failed: GET /healthz on generation 2 (pid 1001) answered 500"
                    + " 2 time(s) in a row"));
    assertThat(v2.probes).containsExactly("/healthz", "/healthz", "/healthz");
    assertThat(v2.heard).endsWith("PAUSE");
    assertThat(v2.signals).containsExactly(Signal.TERM);
    assertThat(h.os.processes).hasSize(2);
  }

  @Test
  void aProbeWithNoAnswerCountsAsAFailure() {
    h.batonApps();
    h.start(BAKE);
    v2().health = -1;
    h.advance(Duration.ofSeconds(2));
    assertThat(h.status().history().getLast().reason())
        .isEqualTo(
            "bake failed: GET /healthz on generation 2 (pid 1001) answered nothing 2 time(s) in a row");
  }

  @Test
  void aPassingProbeBetweenFailuresStartsTheCountOver() {
    h.batonApps();
    h.start(BAKE);
    var v2 = v2();
    for (int code : new int[] {500, 200, 500}) {
      v2.health = code;
      h.advance(Duration.ofSeconds(1));
    }
    assertThat(h.status().activeGeneration()).contains(2);
    h.advance(Duration.ofSeconds(1));
    assertThat(h.status().activeGeneration()).contains(1);
  }

  @Test
  void withNothingParkedTheBakesRollbackStartsThePreviousCommandAgain() {
    h.start(BAKE);
    v2().health = 503;
    h.advance(Duration.ofSeconds(2));
    assertThat(h.status().activeGeneration()).contains(3);
    assertThat(h.status().history().getLast().kind()).isEqualTo(DeployKind.ROLLBACK);
    assertThat(h.os.process(2).spec.argv()).isEqualTo(h.os.process(0).spec.argv());
  }

  @Test
  void aBakeWithoutAFailedProbeLeavesTheGenerationActiveAndStopsProbing() {
    h.batonApps();
    h.start(BAKE);
    var v2 = v2();
    h.advance(Duration.ofSeconds(10));
    assertThat(h.status().activeGeneration()).contains(2);
    assertThat(v2.probes).as("the readiness probe, then one a second for 10 s").hasSize(11);
    h.advance(Duration.ofSeconds(10));
    assertThat(v2.probes).hasSize(11);
    assertThat(h.status().parked()).containsExactly(1);
  }

  @Test
  void withoutABakeNothingProbesThePromotedGeneration() {
    h.start(BAKE.substring(0, BAKE.indexOf("[bake]")));
    var v2 = v2();
    v2.health = 500;
    h.advance(Duration.ofSeconds(30));
    assertThat(v2.probes).containsExactly("/healthz");
    assertThat(h.status().activeGeneration()).contains(2);
  }

  @Test
  void aGenerationThatExitsDuringItsBakeIsRolledBackNotRestarted() {
    h.batonApps();
    h.start(BAKE);
    var v2 = v2();
    h.advance(Duration.ofMillis(500));
    v2.exitWith(1);
    h.advance(Duration.ofSeconds(2));
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.os.processes).as("generation 2's command is not started again").hasSize(2);
    assertThat(h.status().history())
        .extracting(Status.HistoryEntry::kind)
        .endsWith(DeployKind.ROLLBACK);
    assertThat(
            Collections.frequency(
                h.status().history().stream().map(Status.HistoryEntry::kind).toList(),
                DeployKind.RESTART))
        .isZero();
  }
}
