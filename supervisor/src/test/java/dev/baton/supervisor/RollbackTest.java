package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Signal;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Back to the previous generation: a parked one resumed in one step, or its command started again.
 */
class RollbackTest {
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

  @Test
  void rollbackResumesTheNewestParkedGenerationInOneStep() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.deployed();
    h.events.clear();
    h.advanceMillis(1500);
    var rolledBack = h.rollback("v2 is slow");
    assertThat(rolledBack).isCompleted();
    assertThat(rolledBack.join().generation()).isEqualTo(1);
    assertThat(rolledBack.join().pid()).isEqualTo(1000);
    assertThat(h.events)
        .containsExactly(
            new DeployEvent(
                DeployStep.RESUMED,
                1,
                1000,
                Duration.ZERO,
                "generation 1 accepts again; replaces generation 2"));
    assertThat(h.os.processes).as("nothing new is spawned").hasSize(2);
    assertThat(h.os.process(0).heard).containsExactly("OK", "RESUME", "PAUSE", "RESUME");
    assertThat(h.os.process(0).paused).isFalse();
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.status().parked())
        .as("the generation rolled back from is parked in turn")
        .containsExactly(2);
    assertThat(h.status().history().getLast())
        .isEqualTo(
            new Status.HistoryEntry(
                Harness.T0.plusMillis(1500), DeployKind.ROLLBACK, 1, Optional.of(2), "v2 is slow"));
  }

  @Test
  void aParkedGenerationThatDoesNotAnswerResumeIsDrainedAndTheActiveOneKeepsServing() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.deployed();
    h.os.process(0).answersResume = false;
    var rolledBack = h.rollback("v2 is slow");
    h.advance(AppSession.TIMEOUT);
    assertThat(Harness.failure(rolledBack))
        .isEqualTo(
            "rollback to generation 1 (pid 1000) failed: generation 1 (pid 1000)"
                + " did not answer RESUME with RESUMED within 5000 ms; generation 2 (pid 1001) is still active");
    assertThat(h.status().activeGeneration()).contains(2);
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.os.process(1).heard).containsExactly("OK", "RESUME");
  }

  @Test
  void withNothingParkedRollbackStartsThePreviousCommandAgainThroughTheFullGate() {
    h.start();
    h.deploy(List.of("/bin/true", "v2")).join();
    h.events.clear();
    h.apps(p -> {});
    var rolledBack = h.rollback("v2 is slow");
    assertThat(h.steps()).containsExactly(DeployStep.SPAWNED);
    assertThat(rolledBack).isNotDone();
    h.os.process(2).ready();
    h.drive();
    assertThat(rolledBack.join().generation()).isEqualTo(3);
    assertThat(h.os.process(2).spec.argv()).endsWith("/bin/sh", "-c", "exec app");
    assertThat(h.steps())
        .containsExactly(DeployStep.SPAWNED, DeployStep.READY, DeployStep.PROMOTED);
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM);
    assertThat(h.status().history())
        .extracting(Status.HistoryEntry::kind)
        .containsExactly(DeployKind.START, DeployKind.DEPLOY, DeployKind.ROLLBACK);
  }

  @Test
  void withNothingParkedTheHistoryStillSaysWhyTheOperatorRolledBack() {
    h.start();
    h.deployed();
    h.rollback("v2 is slow").join();
    assertThat(h.status().history().getLast().reason()).contains("v2 is slow");
  }

  @Test
  void withOnlyOneGenerationThereIsNothingToRollBackTo() {
    h.start();
    assertThat(Harness.failure(h.rollback("test")))
        .isEqualTo("nothing to roll back to: generation 1 is the only one this supervisor has run");
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.os.processes).hasSize(1);
  }

  @Test
  void beforeAnyGenerationWasActiveThereIsNothingToRollBackTo() {
    h.apps(p -> p.exitWith(1));
    h.start();
    assertThat(Harness.failure(h.rollback("test")))
        .isEqualTo("nothing to roll back to: no generation has been active yet");
  }

  @Test
  void aRollbackWaitsForADeployInProgressThenRollsItBack() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.apps(FakeProcess::connectControl); // not ready yet
    var deployed = h.deploy();
    var rolledBack = h.rollback("bake failed");
    assertThat(rolledBack).isNotDone();
    assertThat(h.steps()).containsExactly(DeployStep.SPAWNED);
    h.os.process(1).batonReady();
    h.drive();
    assertThat(deployed.join().generation()).isEqualTo(2);
    assertThat(rolledBack.join().generation()).isEqualTo(1);
    assertThat(h.steps())
        .containsExactly(
            DeployStep.SPAWNED, DeployStep.READY, DeployStep.PROMOTED, DeployStep.RESUMED);
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.status().parked()).containsExactly(2);
    assertThat(h.os.process(1).signals).isEmpty();
  }

  @Test
  void aRollbackGivesUpAfterWaitingTwoMinutesForADeploy() {
    h.start(Harness.BASE.replace("timeout = \"400ms\"", "timeout = \"10m\""));
    h.apps(p -> {});
    var deployed = h.deploy();
    var rolledBack = h.rollback("test");
    h.advance(DeploySlot.ROLLBACK_WAIT.minusMillis(1));
    assertThat(rolledBack).isNotDone();
    h.advanceMillis(1);
    assertThat(Harness.failure(rolledBack))
        .isEqualTo(
            "a deploy is already in progress (generation 2, started 120000 ms ago);"
                + " wait for it to finish, then retry");
    assertThat(deployed).isNotDone();
    h.os.process(1).ready();
    h.drive();
    assertThat(h.status().activeGeneration())
        .as("the rollback that gave up does not run later")
        .contains(2);
  }

  @Test
  void rightAfterARestartARollbackWaitsForTheParkedGenerationToReconnect() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.deployed();
    h.crash();
    h.start(ParkTest.PARK);
    var rolledBack = h.rollback("v2 is slow");
    h.advanceMillis(150);
    assertThat(rolledBack).isNotDone();
    h.os.process(0).connectControl();
    h.advanceMillis(20);
    assertThat(rolledBack.join().generation()).isEqualTo(1);
    assertThat(h.os.process(0).heard).endsWith("OK", "RESUME");
  }

  @Test
  void aParkedGenerationThatNeverReconnectsCannotBeResumed() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.deployed();
    h.crash();
    h.start(ParkTest.PARK);
    var rolledBack = h.rollback("v2 is slow");
    h.advance(AppSession.TIMEOUT);
    assertThat(Harness.failure(rolledBack))
        .isEqualTo(
            "rollback to generation 1 (pid 1000) failed: generation 1 (pid 1000)"
                + " has not reconnected to BATON_CONTROL within 5000 ms, so it cannot be resumed; generation 2 (pid 1001) is"
                + " still active");
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
  }

  @Test
  void afterACrashARollbackResumesTheParkedGenerationAndTheRestartIsNotNeeded() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.deployed();
    h.os.process(1).exitWith(1);
    h.drive();
    assertThat(h.status().activeGeneration()).isEmpty();
    var rolledBack = h.rollback("v2 crashed");
    assertThat(rolledBack.join().generation()).isEqualTo(1);
    assertThat(rolledBack.join().retired()).isEmpty();
    h.advance(Duration.ofSeconds(1));
    assertThat(h.os.processes).as("no restart: a generation is active").hasSize(2);
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.status().crashLoop()).isEmpty();
  }

  @Test
  void aRollbackStillWaitingWhenTheDeployEndsRunsEvenIfOneBeforeItGaveUp() {
    h.start(Harness.BASE.replace("timeout = \"400ms\"", "timeout = \"10m\""));
    h.apps(p -> {});
    h.deploy();
    var gaveUp = h.rollback("first");
    h.advance(Duration.ofMinutes(1));
    var waiting = h.rollback("second");
    h.advance(Duration.ofMinutes(1));
    assertThat(gaveUp).isCompletedExceptionally();
    h.os.process(1).ready(); // the deploy ends at 2 min
    h.drive();
    assertThat(h.os.processes)
        .as("the slot is free: the second rollback spawns generation 1's command")
        .hasSize(3);
    h.os.process(2).ready();
    h.drive();
    assertThat(waiting).isCompleted();
    assertThat(h.status().activeGeneration()).contains(3);
    assertThat(h.status().history().getLast().kind()).isEqualTo(DeployKind.ROLLBACK);
  }

  @Test
  void aRollbackAfterTheActiveGenerationCrashedGoesBackToTheOneBeforeIt() {
    h.start();
    h.deploy(List.of("/bin/true", "v2")).join();
    h.os.process(1).exitWith(1); // v2 crashes; a restart is due in 50 ms
    h.drive();
    var rolledBack = h.rollback("v2 crashes");
    assertThat(rolledBack.join().generation()).isEqualTo(3);
    assertThat(h.os.process(2).spec.argv())
        .as("v1's command, not the crashed v2's")
        .endsWith("/bin/sh", "-c", "exec app");
  }
}
