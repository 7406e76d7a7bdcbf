package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.os.Fd;
import dev.baton.os.Signal;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A supervisor that died is replaced by one that takes the running service back from its journal.
 */
class RecoveryTest {
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

  /** Generation 1 draining (it ignores TERM), 2 parked, 3 active; then the supervisor dies. */
  private void threeGenerationsThenACrash() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.os.process(0).drainsOn = null;
    h.deployed();
    h.deployed();
    assertThat(h.generation(1).state()).isEqualTo("draining");
    h.crash();
  }

  private String linkOfListener(int index) {
    var fd = h.status().listeners().get(index).fd();
    return h.os.link(new Fd(fd));
  }

  @Test
  void activeParkedAndDrainingGenerationsAreTakenBackAsTheyWere() {
    threeGenerationsThenACrash();
    h.os.environment.put("NOTIFY_SOCKET", "/run/systemd/notify");
    h.start(ParkTest.PARK);
    assertThat(h.os.processes).as("nothing is spawned").hasSize(3);
    var status = h.status();
    assertThat(status.supervisorPid()).isEqualTo(501);
    assertThat(status.activeGeneration()).contains(3);
    assertThat(status.parked()).containsExactly(2);
    assertThat(status.generations())
        .extracting(Status.GenerationStatus::number, Status.GenerationStatus::state)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1, "draining"),
            org.assertj.core.groups.Tuple.tuple(2, "parked"),
            org.assertj.core.groups.Tuple.tuple(3, "active"));
    assertThat(h.generation(3).readiness()).isEqualTo("recovered after a supervisor restart");
    assertThat(h.os.toSystemd)
        .containsExactly("READY=1\nSTATUS=recovered; generation 3 active\nMAINPID=501");
  }

  @Test
  void theListenersAreTakenBackFromTheGenerationsNotBoundAgain() {
    h.start();
    var links = h.os.process(0).spec.listenFds().stream().map(h.os::link).toList();
    h.crash();
    h.os.listenError =
        java.util.Optional.of(new dev.baton.os.NativeException("bind", 98, "EADDRINUSE", "in use"));
    h.start();
    assertThat(List.of(linkOfListener(0), linkOfListener(1))).isEqualTo(links);
    assertThat(h.status().listeners())
        .extracting(Status.ListenerStatus::address)
        .containsExactly("127.0.0.1:8080", "127.0.0.1:9090");
    h.os.listenError = java.util.Optional.empty();
    h.deployed();
    assertThat(h.os.process(1).spec.listenFds().stream().map(h.os::link).toList())
        .as("the next generation gets the very same sockets")
        .isEqualTo(links);
  }

  @Test
  void generationNumbersGoOnFromTheJournal() {
    threeGenerationsThenACrash();
    h.start(ParkTest.PARK);
    h.os.process(2).connectControl(); // baton-app reconnects to the new supervisor
    h.drive();
    assertThat(h.deployed().generation()).isEqualTo(4);
    assertThat(h.status().parked()).containsExactly(3);
  }

  @Test
  void aDrainingGenerationIsKilledAfterTheGraceAndItsStatusIsUnknownToItsNewParent() {
    threeGenerationsThenACrash();
    h.start(ParkTest.PARK);
    h.advanceMillis(299);
    assertThat(h.generation(1).state()).isEqualTo("draining");
    h.advanceMillis(1);
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM, Signal.KILL);
    assertThat(h.generation(1).state()).isEqualTo("exited");
    assertThat(h.generation(1).exit())
        .contains("exited (status unknown: it was adopted after a supervisor restart)");
  }

  @Test
  void aRecoveredParkedGenerationIsDrainedAfterItsTtl() {
    threeGenerationsThenACrash();
    h.start(ParkTest.PARK);
    h.advance(java.time.Duration.ofMinutes(1));
    assertThat(h.os.process(1).signals).containsExactly(Signal.TERM);
    assertThat(h.status().parked()).isEmpty();
  }

  @Test
  void aRecoveredActiveGenerationThatCrashesIsRestartedWithItsCommand() {
    h.start();
    h.deploy(List.of("/bin/true", "v2")).join();
    h.crash();
    h.start();
    h.os.process(1).exitWith(1);
    h.advanceMillis(50);
    assertThat(h.generation(2).reason())
        .isEqualTo("crashed: exited (status unknown: it was adopted after a supervisor restart)");
    assertThat(h.os.process(2).spec.argv()).endsWith("/bin/true", "v2");
    assertThat(h.status().activeGeneration()).contains(3);
  }

  @Test
  void outputWrittenWhileNoSupervisorRanIsReadByTheNextOne() {
    h.start();
    h.crash();
    h.os.process(0).print("while nobody read\n");
    h.start();
    h.os.process(0).print("after\n");
    h.drive();
    assertThat(h.live(1).lastOutput()).isEqualTo("; its last output: while nobody read / after");
  }

  @Test
  void aGenerationThatClosedItsOutputReadEndsIsStillTakenBack() {
    h.start();
    h.crash();
    h.os.process(0).closeOutputReadEnds();
    h.start();
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.live(1).process.stdout().fd()).isEmpty();
  }

  @Test
  void aGenerationThatWasStillStartingIsKilledItsDeploysCallerIsGone() {
    h.start();
    h.apps(p -> {});
    h.deploy();
    h.crash();
    h.start();
    assertThat(h.os.process(1).signals).containsExactly(Signal.KILL);
    assertThat(h.generation(2).state()).isEqualTo("failed");
    assertThat(h.status().activeGeneration()).contains(1);
  }

  @Test
  void aJournalWhoseGenerationsAreAllGoneIsDiscardedAndTheServiceStartsAfresh() {
    h.start();
    var oldLinks = h.os.process(0).spec.listenFds().stream().map(h.os::link).toList();
    h.crash();
    h.os.process(0).exitWith(0);
    h.start();
    assertThat(h.os.processes).hasSize(2);
    assertThat(h.status().activeGeneration()).contains(1);
    // The first process's start, read back from the deploy record, then this one's.
    assertThat(h.status().history())
        .extracting(Status.HistoryEntry::kind)
        .containsExactly(DeployKind.START, DeployKind.START);
    assertThat(List.of(linkOfListener(0), linkOfListener(1)))
        .as("bound anew")
        .doesNotContainAnyElementsOf(oldLinks);
  }

  @Test
  void aConfigWhoseListenersChangedCannotRecoverAndLeavesNothingOpen() {
    h.start();
    h.crash();
    var oneListener =
        Harness.BASE.replace("[[listen]]\nname = \"admin\"\naddress = \"127.0.0.1:9090\"\n", "");
    assertThatThrownBy(() -> h.open(oneListener))
        .isInstanceOf(StartException.class)
        .hasMessage(
            "cannot recover: generation(s) [pid 1000] still run and hold listeners [http=127.0.0.1:8080,"
                + " admin=127.0.0.1:9090], but "
                + dir.resolve("baton.toml")
                + " now says [http=127.0.0.1:8080]; restore"
                + " the config, or stop those processes and start again");
    assertThat(h.os.openFds()).isEmpty();
    assertThat(h.os.process(0).signals).isEmpty();
  }

  @Test
  void aGenerationThatNoLongerHoldsAListenerCannotBeTheDonor() {
    h.start();
    h.crash();
    var process = h.os.process(0);
    process.held.removeIf(
        f -> f instanceof FakeSockets.ListenSocket s && s.local.getPort() == 9090);
    assertThatThrownBy(() -> h.open(Harness.BASE))
        .isInstanceOf(StartException.class)
        .hasMessageStartingWith(
            "cannot recover: pid 1000 no longer holds listener 'admin' (socket:[");
    assertThat(h.os.openFds()).isEmpty();
  }

  @Test
  void aJournalCutShortStopsTheStart() throws Exception {
    h.start();
    h.crash();
    var journal = dir.resolve("baton.sock.state");
    var text = Files.readString(journal);
    Files.writeString(journal, text.substring(0, text.length() / 2));
    assertThatThrownBy(() -> h.open(Harness.BASE))
        .isInstanceOf(StartException.class)
        .hasMessage(
            "the state journal "
                + journal
                + " is refused: its HMAC does not match "
                + dir.resolve("baton.sock.key")
                + ", so this service's supervisor did not write it as it is; nothing was signalled or taken back. Remove "
                + journal
                + " if you did not write it, and start again");
    assertThat(h.os.process(0).signals).isEmpty();
  }

  @Test
  void aStartThatFailsAfterRecoveryLeavesTheGenerationsServingAndClosesEachSocketOnce()
      throws Exception {
    threeGenerationsThenACrash();
    var journal = Files.readString(dir.resolve("baton.sock.state"));
    var signalled = h.os.processes.stream().map(p -> List.copyOf(p.signals)).toList();
    int groupSignals = h.os.groupSignals.size();
    // Something else holds the control socket's path: the start fails after the service was taken
    // back.
    var squatter = h.os.listenUnix(dir.resolve("baton.sock"), 0600);
    assertThatThrownBy(() -> h.open(ParkTest.PARK))
        .isInstanceOf(StartException.class)
        .hasMessageStartingWith("cannot create the control socket " + dir.resolve("baton.sock"));
    var stopped = h.supervisor.stop(); // as `baton run` does when start() throws
    assertThat(stopped).isCompleted();
    assertThat(h.os.violations).as("no descriptor closed twice").isEmpty();
    assertThat(h.os.groupSignals).hasSize(groupSignals);
    assertThat(h.os.processes.stream().map(p -> p.signals).toList())
        .as("no more signals")
        .isEqualTo(signalled);
    assertThat(Files.readString(dir.resolve("baton.sock.state")))
        .as("kept for the next start")
        .isEqualTo(journal);
    squatter.close();
    h.os.unixListeners.remove(dir.resolve("baton.sock"));
    h.start(ParkTest.PARK);
    assertThat(h.status().activeGeneration()).contains(3);
    assertThat(h.status().parked()).containsExactly(2);
  }

  @Test
  void aRecoveredParkedGenerationKeepsTheTtlItWasParkedWith() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.deployed(); // generation 1 parked now, for one minute
    h.advance(java.time.Duration.ofSeconds(40));
    h.crash();
    h.start(ParkTest.PARK);
    h.advanceMillis(19_999);
    assertThat(h.os.process(0).signals).isEmpty();
    h.advanceMillis(1);
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    assertThat(h.status().parked()).isEmpty();
  }

  @Test
  void aRecoveredGenerationThatWasBakingGoesOnBakingAndIsRolledBackWhenItTurnsBad() {
    var bakeAndPark = BakeTest.BAKE + "\n[park]\nmax = 1\nttl = \"1m\"\n";
    h.batonApps();
    h.start(bakeAndPark);
    h.deployed(); // generation 1 parked, 2 baking
    h.advance(java.time.Duration.ofSeconds(3));
    h.crash();
    h.start(bakeAndPark);
    h.os.process(0).connectControl(); // baton-app reconnects to the new supervisor
    h.os.process(1).connectControl();
    h.drive();
    var v2 = h.os.process(1);
    int probed = v2.probes.size();
    v2.health = 500;
    h.advance(java.time.Duration.ofSeconds(2));
    assertThat(v2.probes).hasSize(probed + 2);
    assertThat(h.status().history())
        .as(
            "the start and the deploy before the restart, from the deploy record, then the rollback")
        .extracting(Status.HistoryEntry::kind)
        .containsExactly(DeployKind.START, DeployKind.DEPLOY, DeployKind.ROLLBACK);
    assertThat(h.status().history().getLast())
        .satisfies(
            e ->
                assertThat(e.reason())
                    .isEqualTo(
                        "bake failed: GET /healthz on generation 2 (pid 1001) answered 500 2 time(s) in a row"));
    assertThat(h.status().activeGeneration()).contains(1);
  }

  @Test
  void aRecoveredBakeEndsWhenTheBakeWasDueToEnd() {
    h.start(BakeTest.BAKE);
    h.deployed();
    h.advance(java.time.Duration.ofSeconds(3));
    h.crash();
    h.start(BakeTest.BAKE);
    var v2 = h.os.process(1);
    h.advance(java.time.Duration.ofSeconds(7));
    int probed = v2.probes.size();
    v2.health = 500;
    h.advance(java.time.Duration.ofSeconds(5));
    assertThat(v2.probes).as("no probe after the original ten seconds").hasSize(probed);
    assertThat(h.status().activeGeneration()).contains(2);
  }

  @Test
  void aCleanStopRemovesTheJournalSoTheNextStartIsFresh() {
    h.start();
    assertThat(dir.resolve("baton.sock.state")).exists();
    h.supervisor.stop();
    h.drive();
    assertThat(dir.resolve("baton.sock.state")).doesNotExist();
  }

  @Test
  void aGenerationAdoptedAfterACrashIsTakenBackAgainAfterAnUpgrade() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.crash();
    h.start(ParkTest.PARK); // generation 1 is init's child now, in the old supervisor's session
    h.os.process(0).connectControl();
    h.drive();
    h.deployed(); // generation 2 is this supervisor's own child; 1 is parked
    h.request(new dev.baton.protocol.Request.Upgrade());
    assertThat(h.execed).isPresent();
    h.start(ParkTest.PARK);
    assertThat(h.status().activeGeneration()).contains(2);
    assertThat(h.status().parked()).containsExactly(1);
    assertThat(h.status().generations())
        .extracting(Status.GenerationStatus::number)
        .containsExactly(1, 2);
    assertThat(h.os.groupSignals).isEmpty();
  }
}
