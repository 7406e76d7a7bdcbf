package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Signal;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generation a deploy replaces is parked (paused, alive, warm) when it speaks BATON_CONTROL.
 */
class ParkTest {
  static final String PARK = Harness.BASE + "\n[park]\nmax = 1\nttl = \"1m\"\n";

  @TempDir Path dir;
  private Harness h;

  @BeforeEach
  void harness() {
    h = new Harness(dir);
    h.batonApps();
  }

  @AfterEach
  void invariants() {
    h.checkInvariants();
  }

  @Test
  void aBatonAppGenerationStartsPausedAndIsResumedJustBeforePromotion() {
    h.start(PARK);
    var app = h.os.process(0);
    assertThat(app.heard).containsExactly("OK", "RESUME");
    assertThat(app.paused).isFalse();
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.generation(1).readiness()).isEqualTo("READY=1 on NOTIFY_SOCKET after 0 ms");
  }

  @Test
  void theOldGenerationIsPausedAndParkedWhenItSpeaksBatonControl() {
    h.start(PARK);
    var deployed = h.deployed();
    var parked = deployed.retired().orElseThrow().join();
    assertThat(parked)
        .isEqualTo(
            new DeployEvent(
                DeployStep.PARKED,
                1,
                1000,
                Duration.ZERO,
                "generation 1 parked: alive, warm, not accepting"));
    var old = h.os.process(0);
    assertThat(old.heard).containsExactly("OK", "RESUME", "PAUSE");
    assertThat(old.paused).isTrue();
    assertThat(old.signals).isEmpty();
    assertThat(h.os.process(1).paused).isFalse();
    assertThat(h.status().parked()).containsExactly(1);
    assertThat(h.generation(1).state()).isEqualTo("parked");
    assertThat(h.status().activeGeneration()).contains(2);
  }

  @Test
  void aDeployCompletesOnlyOnceTheOldGenerationIsParked() {
    h.start(PARK);
    h.os.process(0).answersPause = false;
    var deployed = h.deploy();
    assertThat(deployed).isNotDone();
    assertThat(h.status().activeGeneration()).contains(2);
    h.advanceMillis(4999);
    assertThat(deployed).isNotDone();
    h.advanceMillis(1);
    assertThat(deployed).isCompleted();
  }

  @Test
  void aGenerationThatDoesNotAnswerPauseInTimeIsDrainedInstead() {
    h.start(PARK);
    h.os.process(0).answersPause = false;
    var deployed = h.deploy();
    h.advance(AppSession.TIMEOUT);
    var retired = deployed.join().retired().orElseThrow();
    assertThat(retired.join())
        .isEqualTo(
            new DeployEvent(
                DeployStep.DRAINED,
                1,
                1000,
                AppSession.TIMEOUT,
                "generation 1 exited with status 0"));
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.status().parked()).isEmpty();
    assertThat(h.generation(1).state()).isEqualTo("exited");
  }

  @Test
  void aGenerationWhoseControlConnectionDroppedIsDrainedInstead() {
    h.start(PARK);
    h.os.process(0).sayRaw("x".repeat(AppControl.MAX_LINE + 1)); // cut off by the supervisor
    h.drive();
    assertThat(h.os.process(0).connectedToControl()).isFalse();
    var retired = h.deployed().retired().orElseThrow();
    assertThat(retired.join().step()).isEqualTo(DeployStep.DRAINED);
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
  }

  @Test
  void withParkMaxZeroEvenABatonAppGenerationIsDrained() {
    h.start(PARK.replace("max = 1", "max = 0"));
    var retired = h.deployed().retired().orElseThrow();
    assertThat(retired.join().step()).isEqualTo(DeployStep.DRAINED);
    assertThat(h.os.process(0).heard).containsExactly("OK", "RESUME");
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
  }

  @Test
  void theOldestParkedGenerationOverMaxIsDrained() {
    h.start(PARK);
    h.deployed();
    h.deployed();
    assertThat(h.status().parked()).containsExactly(2);
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.generation(1).state()).isEqualTo("exited");
    assertThat(h.os.process(1).signals).isEmpty();
    assertThat(h.generation(2).state()).isEqualTo("parked");
  }

  @Test
  void withParkMaxTwoTwoGenerationsStayParked() {
    h.start(PARK.replace("max = 1", "max = 2"));
    h.deployed();
    h.deployed();
    assertThat(h.status().parked()).containsExactly(1, 2);
    h.deployed();
    assertThat(h.status().parked()).containsExactly(2, 3);
    assertThat(h.generation(1).state()).isEqualTo("exited");
  }

  @Test
  void aParkedGenerationIsDrainedOnceItsTtlHasPassed() {
    h.start(PARK);
    h.deployed();
    h.advance(Duration.ofMinutes(1).minusMillis(1));
    assertThat(h.generation(1).state()).isEqualTo("parked");
    h.advanceMillis(1);
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.generation(1).state()).isEqualTo("exited");
    assertThat(h.status().parked()).isEmpty();
  }

  @Test
  void aParkedGenerationThatIgnoresTheDrainSignalAtItsTtlIsKilledAfterTheGrace() {
    h.start(PARK);
    h.deployed();
    h.os.process(0).drainsOn = null;
    h.advance(Duration.ofMinutes(1));
    assertThat(h.generation(1).state()).isEqualTo("draining");
    h.advance(Duration.ofMillis(300));
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM, Signal.KILL);
    assertThat(h.generation(1).exit()).contains("killed by SIGKILL");
  }

  @Test
  void aGenerationParkedAgainAfterARollbackGetsAFullTtl() {
    h.start(PARK);
    h.deployed(); // generation 1 parked at 0 s
    h.advance(Duration.ofSeconds(30));
    assertThat(h.rollback("v2 is slow")).isCompleted(); // generation 1 active again
    h.advance(Duration.ofSeconds(10));
    h.deployed(); // generation 1 parked again at 40 s
    h.advance(Duration.ofSeconds(59));
    assertThat(h.generation(1).state())
        .as("parked 19 s ago, with a ttl of 60 s")
        .isEqualTo("parked");
    h.advance(Duration.ofSeconds(41));
    assertThat(h.generation(1).state()).isEqualTo("exited");
  }

  @Test
  void aParkedGenerationThatExitsFailsAndIsNoLongerParked() {
    h.start(PARK);
    h.deployed();
    h.os.process(0).exitWith(0);
    h.drive();
    assertThat(h.status().parked()).isEmpty();
    assertThat(h.generation(1).state()).isEqualTo("failed");
    assertThat(h.generation(1).reason()).isEqualTo("exited while parked: exited with status 0");
    assertThat(h.status().activeGeneration()).contains(2);
    assertThat(h.os.processes).hasSize(2);
  }
}
