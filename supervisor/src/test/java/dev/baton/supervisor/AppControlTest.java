package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.NativeException;
import dev.baton.os.Signal;
import dev.baton.protocol.DeployStep;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BATON_CONTROL: who may speak for a generation, and what it may say. */
class AppControlTest {
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

  private Path appSocket() {
    return dir.resolve("baton.sock.app");
  }

  @Test
  void theAppSocketIsMode0600() {
    h.start();
    assertThat(h.os.unixListeners.get(appSocket()).mode).isEqualTo(0600);
  }

  @Test
  void aGenerationThatSaysHelloWithItsNumberIsToldOkAndCanThenBePaused() {
    h.start();
    h.os.process(0).connectControl();
    h.drive();
    assertThat(h.os.process(0).heard).containsExactly("OK");
    assertThat(h.live(1).session()).isPresent();
    assertThat(h.deployed().retired().orElseThrow().join().step()).isEqualTo(DeployStep.PARKED);
  }

  @Test
  void
      aRefusedCallerThatWritesBeforeItReadsStillGetsTheRefusalAndThenTheSupervisorHangsUpWhenItDoes() {
    h.start();
    var app = h.os.connect(appSocket(), 1000, 1001);
    h.drive();
    assertThat(app.isClosedByPeer())
        .as("lingering: the caller's HELLO must not meet a closed socket")
        .isFalse();
    app.send("HELLO 1");
    h.drive();
    assertThat(app.lines())
        .containsExactly("ERROR uid 1001 is not the supervisor's (" + FakeOs.UID + ")");
    app.close();
    h.drive();
    assertThat(h.os.violations).isEmpty();
  }

  @Test
  void aHelloWithAnotherGenerationsNumberIsRefusedAndClosed() {
    h.start();
    var app = h.os.connect(appSocket(), 1000, FakeOs.UID);
    app.send("HELLO 7");
    h.drive();
    assertThat(app.lines()).containsExactly("ERROR expected 'HELLO 1' first, got 'HELLO 7'");
    h.advance(LineChannel.LINGER);
    assertThat(app.isClosedByPeer()).isTrue();
    assertThat(h.live(1).session()).isEmpty();
  }

  @Test
  void aProcessThatIsNoGenerationsMainProcessIsRefused() {
    h.start();
    var app = h.os.connect(appSocket(), 4242, FakeOs.UID);
    app.send("HELLO 1");
    h.drive();
    assertThat(app.lines()).containsExactly("ERROR pid 4242 is no live generation's main process");
    h.advance(LineChannel.LINGER);
    assertThat(app.isClosedByPeer()).isTrue();
    assertThat(h.live(1).session()).isEmpty();
  }

  @Test
  void aProcessOfAnotherUidIsRefused() {
    h.start();
    var app = h.os.connect(appSocket(), 1000, 1001);
    app.send("HELLO 1");
    h.drive();
    assertThat(app.lines()).containsExactly("ERROR uid 1001 is not the supervisor's (1000)");
    h.advance(LineChannel.LINGER);
    assertThat(app.isClosedByPeer()).isTrue();
  }

  @Test
  void aGenerationThatExitedMayNoLongerSpeak() {
    h.start();
    h.deployed();
    var app = h.os.connect(appSocket(), 1000, FakeOs.UID);
    app.send("HELLO 1");
    h.drive();
    assertThat(app.lines()).containsExactly("ERROR pid 1000 is no live generation's main process");
  }

  @Test
  void aConnectionThatSaysNoHelloIsClosedAfterFiveSeconds() {
    h.start();
    var app = h.os.connect(appSocket(), 1000, FakeOs.UID);
    h.advance(Duration.ofMillis(4999));
    assertThat(app.isClosedByPeer()).isFalse();
    h.advanceMillis(1);
    assertThat(app.lines())
        .containsExactly("ERROR generation 1 (pid 1000) said no HELLO within 5000 ms");
    h.advance(LineChannel.LINGER);
    assertThat(app.isClosedByPeer()).isTrue();
  }

  @Test
  void aLineOverTheLimitBeforeHelloDisconnects() {
    h.start();
    var app = h.os.connect(appSocket(), 1000, FakeOs.UID);
    app.sendRaw("HELLO " + "1".repeat(AppControl.MAX_LINE));
    h.drive();
    assertThat(app.lines()).isEmpty();
    h.advance(LineChannel.LINGER);
    assertThat(app.isClosedByPeer()).isTrue();
  }

  @Test
  void aLineOverTheLimitAfterHelloDisconnectsAndTheGenerationCanNoLongerBePaused() {
    h.start();
    var process = h.os.process(0);
    process.connectControl();
    h.drive();
    process.sayRaw("STATUS " + "s".repeat(AppControl.MAX_LINE));
    h.drive();
    assertThat(process.connectedToControl()).isFalse();
    assertThat(h.live(1).session()).isEmpty();
    assertThat(h.deployed().retired().orElseThrow().join().step()).isEqualTo(DeployStep.DRAINED);
    assertThat(process.signals).containsExactly(Signal.TERM);
  }

  @Test
  void readyOnBatonControlPassesTheNotifyGate() {
    h.apps(
        p -> {
          p.connectControl();
          p.batonReady();
        });
    h.start();
    assertThat(h.status().activeGeneration()).contains(1);
  }

  @Test
  void aHelloAndReadyInOneWriteAreBothHeard() {
    h.apps(
        p -> {
          p.connectControl();
          p.batonReady();
        });
    h.start();
    assertThat(h.os.process(0).heard).containsExactly("OK", "RESUME");
  }

  @Test
  void statusTextFromTheAppShowsInBatonStatus() {
    h.start();
    var process = h.os.process(0);
    process.connectControl();
    process.batonStatus("warming caches");
    h.drive();
    assertThat(h.generation(1).readiness())
        .isEqualTo("READY=1 on NOTIFY_SOCKET after 0 ms; STATUS=warming caches");
  }

  @Test
  void statusOnTheNotifySocketShowsTooAndReadyFromAnotherPidIsIgnored() {
    h.apps(p -> {});
    h.start();
    h.os.process(0).notify("STATUS=loading");
    h.os
        .notifySockets
        .get(dir.resolve("baton.sock.notify").toString())
        .deliver(new dev.baton.os.NotifyMessage(4242, FakeOs.UID, "READY=1"));
    h.drive();
    assertThat(h.generation(1).state()).isEqualTo("starting");
    assertThat(h.generation(1).readiness()).isEqualTo("waiting; STATUS=loading");
  }

  @Test
  void aWordTheSupervisorDoesNotKnowIsIgnored() {
    h.start();
    var process = h.os.process(0);
    process.connectControl();
    process.say("FROBNICATE now");
    process.say("READY extra");
    h.drive();
    assertThat(process.connectedToControl()).isTrue();
    assertThat(h.deployed().retired().orElseThrow().join().step()).isEqualTo(DeployStep.PARKED);
  }

  @Test
  void aReconnectionReplacesTheOldSession() {
    h.start();
    var process = h.os.process(0);
    process.connectControl();
    h.drive();
    var first = h.live(1).session().orElseThrow();
    process.connectControl(); // baton-app after a dropped connection
    h.drive();
    assertThat(h.live(1).session()).isPresent().get().isNotSameAs(first);
    assertThat(h.deployed().retired().orElseThrow().join().step()).isEqualTo(DeployStep.PARKED);
    assertThat(process.heard).containsExactly("OK", "OK", "PAUSE");
  }

  @Test
  void aNewGenerationThatDoesNotAnswerResumeIsNotPromoted() {
    h.start();
    h.apps(
        p -> {
          p.answersResume = false;
          p.connectControl();
          p.batonReady();
        });
    var deployed = h.deploy();
    assertThat(h.os.process(1).heard).containsExactly("OK", "RESUME");
    h.advance(AppSession.TIMEOUT);
    assertThat(deployed).isCompletedExceptionally();
    assertThat(h.events.getLast().detail())
        .isEqualTo("generation 2 (pid 1001) did not answer RESUME with RESUMED within 5000 ms");
    assertThat(h.os.process(1).signals).containsExactly(Signal.KILL);
    assertThat(h.status().activeGeneration()).contains(1);
  }

  /**
   * Writes one endless line in 1 KiB pieces while the supervisor's end holds at most 8 KiB unread,
   * so only what the supervisor reads makes room; returns every byte it took before it hung up.
   */
  private long endlessLine(FakeSockets.Connection app) {
    app.peer.capacity = 8192;
    var piece = "x".repeat(1024).getBytes(StandardCharsets.US_ASCII);
    long taken = 0;
    for (int i = 0; i < 10_000; i++) {
      try {
        taken += app.writeNow(piece, 0, piece.length);
      } catch (NativeException e) {
        assertThat(e.getMessage()).contains("EPIPE");
        return taken;
      }
      h.drive();
    }
    throw new AssertionError("still connected after " + taken + " bytes");
  }

  @Test
  void anEndlessLineBeforeHelloIsCutOffWithAtMostTheLimitAndOneReadBuffered() {
    h.start();
    long fds = h.os.openFds().size();
    var app = h.os.connect(appSocket(), 1000, FakeOs.UID);
    long taken = endlessLine(app);
    assertThat(taken)
        .isGreaterThan(AppControl.MAX_LINE)
        .isLessThanOrEqualTo(AppControl.MAX_LINE + 4096 + 8192);
    assertThat(h.os.openFds()).hasSize((int) fds);
    assertThat(h.supervisor.loop().caught()).isZero();
  }

  @Test
  void anEndlessLineAfterHelloIsCutOffWithAtMostTheLimitAndOneReadBuffered() {
    h.start();
    long fds = h.os.openFds().size();
    var app = h.os.connect(appSocket(), 1000, FakeOs.UID);
    app.send("HELLO 1");
    h.drive();
    assertThat(app.lines()).containsExactly("OK");
    long taken = endlessLine(app);
    assertThat(taken)
        .isGreaterThan(AppControl.MAX_LINE)
        .isLessThanOrEqualTo(AppControl.MAX_LINE + 4096 + 8192);
    assertThat(h.live(1).session()).isEmpty();
    assertThat(h.os.openFds()).hasSize((int) fds);
    assertThat(h.supervisor.loop().caught()).isZero();
  }

  @Test
  void aGenerationThatConnectsOverAndOverHoldsAtMostMaxConnectionsDescriptors() {
    h.start();
    int fds = h.os.openFds().size();
    var callers = new java.util.ArrayList<FakeSockets.Connection>();
    for (int i = 0; i < 3 * AppControl.MAX_CONNECTIONS; i++) {
      callers.add(h.os.connect(appSocket(), 1000, FakeOs.UID));
      h.drive();
    }
    assertThat(h.os.openFds()).hasSize(fds + AppControl.MAX_CONNECTIONS);
    assertThat(callers.subList(0, AppControl.MAX_CONNECTIONS))
        .noneMatch(FakeSockets.Connection::isClosedByPeer);
    assertThat(callers.subList(AppControl.MAX_CONNECTIONS, callers.size()))
        .allMatch(FakeSockets.Connection::isClosedByPeer);
    h.advance(Duration.ofSeconds(5).plus(LineChannel.LINGER));
    assertThat(callers).allMatch(FakeSockets.Connection::isClosedByPeer);
    assertThat(h.os.openFds()).hasSize(fds);
    var app = h.os.connect(appSocket(), 1000, FakeOs.UID);
    app.send("HELLO 1");
    h.drive();
    assertThat(app.lines()).containsExactly("OK");
  }

  @Test
  void aSecondHelloClosesTheFirstSessionsConnection() {
    h.start();
    int fds = h.os.openFds().size();
    var first = h.os.connect(appSocket(), 1000, FakeOs.UID);
    first.send("HELLO 1");
    h.drive();
    var second = h.os.connect(appSocket(), 1000, FakeOs.UID);
    second.send("HELLO 1");
    h.drive();
    assertThat(first.lines()).containsExactly("OK");
    assertThat(first.isClosedByPeer()).isTrue();
    assertThat(second.lines()).containsExactly("OK");
    assertThat(second.isClosedByPeer()).isFalse();
    assertThat(h.os.openFds()).hasSize(fds + 1);
  }
}
