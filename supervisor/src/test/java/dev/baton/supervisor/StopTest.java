package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Signal;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `baton stop`: every generation drained (those still starting killed), then the sockets closed.
 */
class StopTest {
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
  void stopDrainsActiveAndParkedGenerationsKillsStartingOnesThenClosesEverything() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.deployed(); // 1 parked, 2 active
    h.os.process(1).drainsOn = null;
    h.apps(p -> {});
    var deploying = h.deploy(); // 3 starting
    var stopped = h.supervisor.stop();
    h.drive();
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM);
    assertThat(h.os.process(2).signals).containsExactly(Signal.KILL);
    assertThat(Harness.failure(deploying))
        .isEqualTo("generation 3 (pid 1002) killed by SIGKILL before it was ready");
    assertThat(stopped).as("generation 2 still drains").isNotDone();
    assertThat(h.os.unixListeners).isNotEmpty();
    h.advanceMillis(300);
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM, Signal.KILL);
    assertThat(stopped).isCompleted();
    assertThat(h.supervisor.stopped()).isCompleted();
    assertThat(h.os.openFds()).as("listeners, sockets, pidfds and pipes all closed").isEmpty();
    assertThat(h.os.unixListeners).isEmpty();
    assertThat(h.os.notifySockets).isEmpty();
    assertThat(h.os.lastPoller().describe()).as("nothing is watched any more").isEmpty();
    assertThat(dir.resolve("baton.sock.state")).doesNotExist();
  }

  @Test
  void theListenersCloseOnlyOnceTheLastGenerationHasExited() {
    h.start();
    var listeners = h.os.process(0).spec.listenFds();
    h.os.process(0).drainsOn = null;
    h.supervisor.stop();
    h.advanceMillis(299);
    assertThat(listeners).allSatisfy(fd -> assertThat(h.os.isOpen(fd)).isTrue());
    h.advanceMillis(1);
    assertThat(listeners).allSatisfy(fd -> assertThat(h.os.isOpen(fd)).isFalse());
  }

  @Test
  void systemdIsToldTheServiceIsStopping() {
    h.os.environment.put("NOTIFY_SOCKET", "/run/systemd/notify");
    h.start();
    h.supervisor.stop();
    h.drive();
    assertThat(h.os.toSystemd).endsWith("STOPPING=1");
  }

  @Test
  void afterStopDeploysAndRollbacksAreRefused() {
    h.start();
    h.os.process(0).drainsOn = null;
    h.supervisor.stop();
    h.drive();
    assertThat(Harness.failure(h.deploy()))
        .isEqualTo("the supervisor is stopping; it takes no more deploys");
    assertThat(Harness.failure(h.rollback("test")))
        .isEqualTo("the supervisor is stopping; it takes no rollbacks");
  }

  @Test
  void aRollbackWaitingForADeployIsRefusedWhenTheSupervisorStops() {
    h.start();
    h.apps(p -> {});
    h.deploy();
    var rolledBack = h.rollback("test");
    h.supervisor.stop();
    h.drive();
    assertThat(Harness.failure(rolledBack))
        .isEqualTo("the supervisor is stopping; it takes no rollbacks");
    assertThat(h.supervisor.stopped()).isCompleted();
  }

  @Test
  void aStopDuringACrashLoopCompletesAtOnceAndNothingIsRestarted() {
    h.apps(p -> p.exitWith(1));
    h.start();
    var stopped = h.supervisor.stop();
    h.drive();
    assertThat(stopped).isCompleted();
    h.advance(Duration.ofSeconds(5));
    assertThat(h.os.processes).hasSize(1);
  }

  @Test
  void theStopCompletesWhenTheLastGenerationExitsWhateverItsStatusAndNothingIsRestarted() {
    h.start();
    h.os.process(0).drainsOn = null;
    h.supervisor.stop();
    h.drive();
    h.os.process(0).exitWith(1);
    h.drive();
    assertThat(h.supervisor.stopped()).isCompleted();
    assertThat(h.generation(1).exit()).contains("exited with status 1");
    h.advance(Duration.ofSeconds(5));
    assertThat(h.os.processes).hasSize(1);
  }

  @Test
  void aSupervisorThatNeverStartedStopsAtOnce() {
    var supervisor = new Supervisor(h.config(Harness.BASE), h.os, h.clock);
    assertThat(supervisor.stop()).isCompleted();
  }
}
