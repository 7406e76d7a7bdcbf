package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Fd;
import dev.baton.os.Os;
import dev.baton.protocol.DeployStep;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Steered listeners: each generation gets a socket of the group of its own, a promotion or a
 * rollback is one select, any app is parked, and the old generation hears of its retirement only
 * once its own queue is empty and {@code [drain] settle} has passed.
 */
class SteerTest {
  static final String STEERED =
      Harness.BASE
              .replace(
                  "address = \"127.0.0.1:8080\"", "address = \"127.0.0.1:8080\"\nsteer = \"bpf\"")
              .replace("timeout = \"300ms\"", "timeout = \"300ms\"\nsettle = \"100ms\"")
          + "\n[park]\nmax = 1\nttl = \"1m\"\n";

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

  /** A deploy, once the old generation has settled. */
  private Supervisor.Deployed deployed() {
    var deployed = h.deploy();
    h.advanceMillis(100);
    assertThat(deployed).isCompleted();
    return deployed.join();
  }

  private Fd httpSocketOf(int process) {
    return h.os.process(process).spec.listenFds().get(0);
  }

  private FakeOs.FakeSteering steering() {
    assertThat(h.os.steerings).hasSize(1);
    return h.os.steerings.getFirst();
  }

  @Test
  void eachGenerationGetsASocketOfItsOwnAndThePromotionSelectsIt() {
    h.start(STEERED);
    var anchor = steering().attachedTo;
    var first = httpSocketOf(0);
    assertThat(first).isNotEqualTo(anchor);
    assertThat(steering().selected).isEqualTo(first);
    var admin = h.os.process(0).spec.listenFds().get(1);

    deployed();
    var second = httpSocketOf(1);
    assertThat(second).isNotIn(first, anchor);
    assertThat(steering().selected).isEqualTo(second);
    // The shared listener is the same file for both.
    assertThat(h.os.process(1).spec.listenFds().get(1)).isEqualTo(admin);
    var http = h.status().listeners().getFirst();
    assertThat(http.steer()).isEqualTo("bpf");
    assertThat(http.generations()).containsExactly(1, 2);
    assertThat(h.status().listeners().get(1).steer()).isEqualTo("shared");
  }

  @Test
  void anAppThatDoesNotSpeakBatonControlIsParkedNotSignalled() {
    h.start(STEERED);
    var retired = deployed().retired().orElseThrow();
    assertThat(retired.join().step()).isEqualTo(DeployStep.PARKED);
    assertThat(h.os.process(0).signals).isEmpty();
    assertThat(h.generation(1).state()).isEqualTo("parked");
  }

  @Test
  void aRollbackIsOneSelectBackAndParksTheOneItLeaves() {
    h.start(STEERED);
    deployed();
    var first = httpSocketOf(0);
    var second = httpSocketOf(1);
    int selects = steering().selects;

    var back = h.rollback("v2 is slow");
    h.drive();
    assertThat(steering().selected).isEqualTo(first);
    assertThat(steering().selects).isEqualTo(selects + 1);
    assertThat(h.status().activeGeneration()).contains(1);
    h.advanceMillis(100);
    assertThat(back.join().retired().orElseThrow().join().step()).isEqualTo(DeployStep.PARKED);
    assertThat(h.generation(2).state()).isEqualTo("parked");

    var unused = h.rollback("v1 was no better");
    assertThat(steering().selected).isEqualTo(second);
    assertThat(h.os.process(0).signals).isEmpty();
    assertThat(h.os.process(1).signals).isEmpty();
  }

  @Test
  void theOldGenerationIsLeftAloneUntilItsQueueIsEmptyAndSettleHasPassed() {
    h.start(STEERED);
    h.os.queues.put(httpSocketOf(0), new Os.AcceptQueue(3, 4096));
    var deployed = h.deploy();
    h.advanceMillis(250); // within [drain] timeout, which bounds the wait
    assertThat(deployed).isNotDone();
    assertThat(h.generation(1).state()).isEqualTo("active");
    assertThat(h.status().activeGeneration()).contains(2);

    h.os.queues.remove(httpSocketOf(0));
    h.advanceMillis(99);
    assertThat(deployed).isNotDone();
    h.advanceMillis(6);
    assertThat(deployed).isCompleted();
    assertThat(h.generation(1).state()).isEqualTo("parked");
  }

  @Test
  void aDrainedGenerationsSocketIsClosedOnceItHasExited() {
    h.start(STEERED.replace("max = 1", "max = 0"));
    var first = httpSocketOf(0);
    var retired = deployed().retired().orElseThrow();
    assertThat(retired.join().step()).isEqualTo(DeployStep.DRAINED);
    assertThat(h.os.isOpen(first)).isFalse();
    assertThat(h.os.isOpen(httpSocketOf(1))).isTrue();
  }

  @Test
  void aCrashedActiveGenerationsSocketStaysOpenUntilTheNextPromotionSelectsAnother() {
    h.start(STEERED);
    var first = httpSocketOf(0);
    h.os.process(0).exitWith(1);
    h.drive();
    assertThat(h.os.isOpen(first)).isTrue();
    h.advanceMillis(50);
    assertThat(h.status().activeGeneration()).contains(2);
    assertThat(steering().selected).isEqualTo(httpSocketOf(1));
    assertThat(h.os.isOpen(first)).isFalse();
  }

  @Test
  void withoutBpfTheListenerIsSharedAndStatusSaysSo() {
    h.os.steeringUnavailable = Optional.of("bpf() is not permitted");
    h.start(STEERED);
    deployed();
    assertThat(h.os.steerings).isEmpty();
    assertThat(httpSocketOf(1)).isEqualTo(httpSocketOf(0));
    assertThat(h.status().listeners().getFirst().steer()).isEqualTo("shared");
  }

  @Test
  void aRestartedSupervisorOpensTheMapAgainAndSelectsTheActiveGenerationAgain() {
    h.start(STEERED);
    deployed();
    h.crash();
    h.start(STEERED);
    assertThat(h.os.steerings).hasSize(2);
    var again = h.os.steerings.get(1);
    assertThat(again.reopened).isTrue();
    assertThat(again.id).isEqualTo(h.os.steerings.getFirst().id);
    assertThat(again.attachedTo).isNull();
    assertThat(again.selected).isEqualTo(h.live(2).own.get("http"));
    assertThat(h.generation(1).state()).isEqualTo("parked");
    var back = h.rollback("after the restart");
    assertThat(again.selected).isEqualTo(h.live(1).own.get("http"));
    h.advanceMillis(100);
    assertThat(back).isCompleted();
    assertThat(h.generation(2).state()).isEqualTo("parked");
  }

  @Test
  void aRestartedSupervisorThatCannotOpenTheMapAgainAttachesANewProgram() {
    h.start(STEERED);
    deployed();
    h.crash();
    h.os.mapsReopen = false;
    h.start(STEERED);
    assertThat(h.os.steerings).hasSize(2);
    var fresh = h.os.steerings.get(1);
    assertThat(fresh.reopened).isFalse();
    assertThat(fresh.attachedTo).isNotNull();
    assertThat(fresh.selected).isEqualTo(h.live(2).own.get("http"));
  }

  @Test
  void aConfigThatChangesSteerIsRefusedAndTheServiceGoesOnAsItWas() throws Exception {
    h.start(STEERED);
    java.nio.file.Files.writeString(
        dir.resolve("baton.toml"), STEERED.replace("steer = \"bpf\"", "steer = \"shared\""));
    var why = Harness.failure(h.deploy());
    assertThat(why)
        .contains("listener 'http' cannot change steer from \"bpf\" while the service runs")
        .contains("restart the service");
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.status().listeners().getFirst().steer()).isEqualTo("bpf");
  }

  @Test
  void anUpgradedSupervisorTakesTheMapAndTheOwnSocketsBackAndRollsBackInOneSelect() {
    h.start(STEERED);
    deployed();
    h.request(new dev.baton.protocol.Request.Upgrade());
    assertThat(h.execed).isPresent();
    h.start(STEERED); // the new image: same pid, same children
    var again = h.os.steerings.getLast();
    assertThat(again.reopened).isTrue();
    assertThat(again.selected).isEqualTo(h.live(2).own.get("http"));
    assertThat(h.status().listeners().getFirst().generations()).containsExactly(1, 2);
    var back = h.rollback("after the upgrade");
    assertThat(again.selected).isEqualTo(h.live(1).own.get("http"));
    h.advanceMillis(100);
    assertThat(back).isCompleted();
    assertThat(h.os.process(0).signals).isEmpty();
  }
}
