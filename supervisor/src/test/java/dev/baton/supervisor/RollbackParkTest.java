package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Signal;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With parking on, a rollback parks the generation it leaves, so every flip after it is a resume.
 */
class RollbackParkTest {
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
  void deployRollbackRollbackAgainIsAResumeEachTimeAndNothingIsDrained() {
    h.start(ParkTest.PARK);
    h.deployed();
    var v1 = h.os.process(0);
    var v2 = h.os.process(1);

    h.events.clear();
    var first = h.rollback("v2 is slow").join();
    assertThat(first.generation()).isEqualTo(1);
    assertThat(h.events)
        .containsExactly(
            new DeployEvent(
                DeployStep.RESUMED,
                1,
                1000,
                Duration.ZERO,
                "generation 1 accepts again; replaces generation 2"));
    assertThat(first.retired().orElseThrow().join())
        .isEqualTo(
            new DeployEvent(
                DeployStep.PARKED,
                2,
                1001,
                Duration.ZERO,
                "generation 2 parked: alive, warm, not accepting"));
    assertThat(v2.heard).containsExactly("OK", "RESUME", "PAUSE");
    assertThat(v2.paused).isTrue();
    assertThat(h.generation(2).state()).isEqualTo("parked");
    assertThat(h.generation(2).reason()).isEqualTo("rolled back: v2 is slow");
    assertThat(h.status().parked()).containsExactly(2);
    assertThat(h.status().activeGeneration()).contains(1);

    h.events.clear();
    var second = h.rollback("v1 was no better").join();
    assertThat(second.generation()).isEqualTo(2);
    assertThat(h.events)
        .containsExactly(
            new DeployEvent(
                DeployStep.RESUMED,
                2,
                1001,
                Duration.ZERO,
                "generation 2 accepts again; replaces generation 1"));
    assertThat(second.retired().orElseThrow().join())
        .isEqualTo(
            new DeployEvent(
                DeployStep.PARKED,
                1,
                1000,
                Duration.ZERO,
                "generation 1 parked: alive, warm, not accepting"));
    assertThat(v1.heard).containsExactly("OK", "RESUME", "PAUSE", "RESUME", "PAUSE");
    assertThat(v2.heard).containsExactly("OK", "RESUME", "PAUSE", "RESUME");
    assertThat(v1.paused).isTrue();
    assertThat(v2.paused).isFalse();
    assertThat(h.status().parked()).containsExactly(1);
    assertThat(h.status().activeGeneration()).contains(2);

    var third = h.rollback("flip once more").join();
    assertThat(third.generation()).isEqualTo(1);
    assertThat(h.status().parked()).containsExactly(2);

    assertThat(h.os.processes).as("no flip started a process").hasSize(2);
    assertThat(v1.signals).as("nothing was drained").isEmpty();
    assertThat(v2.signals).as("nothing was drained").isEmpty();
    assertThat(h.status().history())
        .extracting(Status.HistoryEntry::kind)
        .containsExactly(
            DeployKind.START,
            DeployKind.DEPLOY,
            DeployKind.ROLLBACK,
            DeployKind.ROLLBACK,
            DeployKind.ROLLBACK);
  }

  @Test
  void theGenerationParkedByARollbackExpiresAfterTheTtlLikeAnyOther() {
    h.start(ParkTest.PARK);
    h.deployed();
    h.rollback("v2 is slow").join();
    h.advance(Duration.ofSeconds(59));
    assertThat(h.os.process(1).signals).isEmpty();
    h.advance(Duration.ofSeconds(1));
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM);
    assertThat(h.generation(2).state()).isEqualTo("exited");
    assertThat(h.status().parked()).isEmpty();
  }

  @Test
  void parkingItOverMaxDrainsTheOldestParkedGeneration() {
    h.start(ParkTest.PARK);
    h.deployed(); // 1 parked, 2 active
    h.deployed(); // 2 parked, 3 active; 1 drained (max = 1)
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    var back = h.rollback("v3 is slow").join();
    assertThat(back.generation()).isEqualTo(2);
    assertThat(back.retired().orElseThrow().join().step()).isEqualTo(DeployStep.PARKED);
    assertThat(h.status().parked()).containsExactly(3);
    assertThat(h.os.process(2).signals).isEmpty();
  }

  @Test
  void withParkingOffTheGenerationRolledBackFromIsPausedThenDrained() {
    // Parked by the deploy with max = 1; a supervisor restarted with max = 0 may still resume it.
    h.start(ParkTest.PARK);
    h.deployed();
    h.crash();
    h.start(ParkTest.PARK.replace("max = 1", "max = 0"));
    h.os.process(0).connectControl();
    h.os.process(1).connectControl();
    h.drive();
    var back = h.rollback("v2 is slow").join();
    assertThat(back.generation()).isEqualTo(1);
    assertThat(back.retired().orElseThrow().join().step()).isEqualTo(DeployStep.DRAINED);
    assertThat(h.os.process(1).heard).endsWith("PAUSE");
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM);
    assertThat(h.status().parked()).isEmpty();
  }
}
