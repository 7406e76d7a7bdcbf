package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.os.NativeException;
import dev.baton.os.Signal;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Request;
import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A deploy from spawn to promotion, and the old generation drained, against the fake OS. */
class DeployTest {
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
  void theFirstGenerationBecomesActiveOnReadyOnTheNotifySocket() {
    h.start();
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.generation(1).state()).isEqualTo("active");
    assertThat(h.generation(1).readiness()).isEqualTo("READY=1 on NOTIFY_SOCKET after 0 ms");
    assertThat(h.status().history())
        .containsExactly(
            new Status.HistoryEntry(Harness.T0, DeployKind.START, 1, Optional.empty(), ""));
  }

  @Test
  void listenersArePassedAsListenFdsThroughTheListenPidShim() {
    h.start();
    var spec = h.os.process(0).spec;
    assertThat(spec.listenFds()).hasSize(2);
    assertThat(spec.listenFds())
        .extracting(fd -> ((FakeSockets.ListenSocket) h.os.file(fd)).local)
        .containsExactly(FakeOs.loopback(8080), FakeOs.loopback(9090));
    assertThat(spec.stdin()).isEmpty();
    assertThat(spec.env())
        .containsEntry("LISTEN_FDS", "2")
        .containsEntry("LISTEN_FDNAMES", "http:admin")
        .containsEntry("BATON_GENERATION", "1")
        .containsEntry("MODE", "prod")
        .containsEntry("NOTIFY_SOCKET", dir.resolve("baton.sock.notify").toString())
        .doesNotContainKey("LISTEN_PID");
    assertThat(spec.argv())
        .containsExactly(
            "/bin/sh",
            "-c",
            "export LISTEN_PID=$$; exec \"$0\" \"$@\"",
            "/bin/sh",
            "-c",
            "exec app");
  }

  @Test
  void aListenerMarkedFd0IsTheGenerationsStdin() {
    h.start(Harness.BASE.replace("name = \"admin\"", "name = \"admin\"\npass = \"fd0\""));
    var spec = h.os.process(0).spec;
    assertThat(((FakeSockets.ListenSocket) h.os.file(spec.stdin().orElseThrow())).local)
        .isEqualTo(FakeOs.loopback(9090));
    assertThat(spec.listenFds()).hasSize(1).doesNotContain(spec.stdin().get());
    assertThat(spec.env()).containsEntry("LISTEN_FDS", "1").containsEntry("LISTEN_FDNAMES", "http");
  }

  @Test
  void generationsAreToldWhereBatonControlIsAndToStartPaused() {
    h.start();
    assertThat(h.os.process(0).spec.env())
        .containsEntry("BATON_CONTROL", dir.resolve("baton.sock.app").toString())
        .containsEntry("BATON_START", "paused");
  }

  @Test
  void generationsAreToldTheDrainsGracePeriodInMilliseconds() {
    h.start();
    assertThat(h.os.process(0).spec.env()).containsEntry("BATON_DRAIN_TIMEOUT", "300");
  }

  @Test
  void theSupervisorsEnvironmentReachesGenerationsWithoutItsOwnListenNotifyAndBatonVariables() {
    h.os.environment.putAll(
        Map.of(
            "LANG",
            "C.UTF-8",
            "LISTEN_FDS",
            "7",
            "LISTEN_PID",
            "1",
            "NOTIFY_SOCKET",
            "/run/systemd/notify",
            "BATON_GENERATION",
            "9",
            "BATON_UPGRADED_FROM",
            "12"));
    h.start();
    var env = h.os.process(0).spec.env();
    assertThat(env)
        .containsEntry("LANG", "C.UTF-8")
        .containsEntry("LISTEN_FDS", "2")
        .containsEntry("NOTIFY_SOCKET", dir.resolve("baton.sock.notify").toString())
        .containsEntry("BATON_GENERATION", "1")
        .doesNotContainKeys("LISTEN_PID", "BATON_UPGRADED_FROM");
  }

  @Test
  void systemdIsToldReadyWithTheMainPidAtEachPromotion() {
    h.os.environment.put("NOTIFY_SOCKET", "/run/systemd/notify");
    h.start();
    h.deployed();
    assertThat(h.os.toSystemd)
        .containsExactly(
            "READY=1\nSTATUS=generation 1 active\nMAINPID=500",
            "READY=1\nSTATUS=generation 2 active\nMAINPID=500");
  }

  @Test
  void anHttpProbeGetsAPrivateListenerNamedBatonProbeThatOnlyTheGenerationHolds() {
    h.start(Harness.BASE.replace("notify = true", "http = \"/healthz\""));
    var spec = h.os.process(0).spec;
    assertThat(spec.env())
        .containsEntry("LISTEN_FDS", "3")
        .containsEntry("LISTEN_FDNAMES", "http:admin:baton-probe");
    // Our copy of the probe listener is closed at once: a dead generation's probe must be refused.
    assertThat(h.os.isOpen(spec.listenFds().get(2))).isFalse();
    assertThat(h.os.process(0).probes).containsExactly("/healthz");
    assertThat(h.generation(1).readiness())
        .isEqualTo("a 2xx from GET /healthz on its probe listener after 0 ms");
  }

  @Test
  void aProbeThatIsNot2xxIsAskedAgainUntilItIs() {
    h.apps(p -> p.health = 503);
    h.start(Harness.BASE.replace("notify = true", "http = \"/healthz\""));
    assertThat(h.status().activeGeneration()).isEmpty();
    h.advanceMillis(30);
    assertThat(h.os.process(0).probes).hasSize(4);
    h.os.process(0).health = 204;
    h.advanceMillis(10);
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.generation(1).readiness())
        .isEqualTo("a 2xx from GET /healthz on its probe listener after 40 ms");
  }

  @Test
  void aProbeThatNeverAnswers2xxFailsTheDeployNamingTheLastAnswer() {
    h.start(Harness.BASE.replace("notify = true", "http = \"/healthz\""));
    h.apps(p -> p.health = 503);
    var deployed = h.deploy();
    h.advanceMillis(400);
    assertThat(Harness.failure(deployed))
        .isEqualTo(
            "generation 2 (pid 1001) was not ready within 400 ms, waiting for a 2xx"
                + " from GET /healthz on its probe listener (last probe answered 503); it was killed and the active"
                + " generation keeps serving. Raise [readiness] timeout if it is just slow");
    assertThat(h.status().activeGeneration()).contains(1);
  }

  @Test
  void deployPromotesTheNewGenerationAndDrainsTheOldWithTheConfiguredSignal() {
    h.start();
    var deployed = h.deployed();
    assertThat(deployed.generation()).isEqualTo(2);
    assertThat(deployed.pid()).isEqualTo(1001);
    var drained = deployed.retired().orElseThrow();
    assertThat(drained).isCompleted();
    assertThat(h.steps())
        .containsExactly(DeployStep.SPAWNED, DeployStep.READY, DeployStep.PROMOTED);
    assertThat(drained.join().step()).isEqualTo(DeployStep.DRAINED);
    assertThat(drained.join().detail()).isEqualTo("generation 1 exited with status 0");
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM);
    // Whatever it left in its process group goes with it.
    assertThat(h.os.groupSignals).containsExactly("1000:KILL");
    assertThat(h.status().activeGeneration()).contains(2);
    assertThat(h.generation(1).state()).isEqualTo("exited");
    assertThat(h.status().history())
        .extracting(
            Status.HistoryEntry::kind,
            Status.HistoryEntry::generation,
            Status.HistoryEntry::replaced)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(DeployKind.START, 1, Optional.empty()),
            org.assertj.core.groups.Tuple.tuple(DeployKind.DEPLOY, 2, Optional.of(1)));
  }

  @Test
  void deployCanOverrideTheCommandAndEnvironmentForOneGeneration() {
    h.start();
    h.deploy(
        new Request.Deploy(
            Optional.of(List.of("/bin/true", "v2")), Map.of("MODE", "canary"), false));
    var spec = h.os.process(1).spec;
    assertThat(spec.argv()).endsWith("/bin/true", "v2");
    assertThat(spec.env()).containsEntry("MODE", "canary");
    assertThat(h.generation(2).command()).containsExactly("/bin/true", "v2");
  }

  @Test
  void aNewGenerationThatExitsAtOnceLeavesTheOldServingAndItsLastOutputExplainsWhy() {
    h.start();
    h.apps(
        p -> {
          p.printErr("reading /etc/app.conf\nboom: no config\n");
          p.exitWith(3);
        });
    var deployed = h.deploy();
    var why =
        "generation 2 (pid 1001) exited with status 3 before it was ready;"
            + " its last output: reading /etc/app.conf / boom: no config";
    assertThat(Harness.failure(deployed)).isEqualTo(why);
    assertThat(h.events.getLast().step()).isEqualTo(DeployStep.FAILED);
    assertThat(h.events.getLast().detail()).isEqualTo(why);
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.os.process(0).signals).isEmpty();
    assertThat(h.generation(2).state()).isEqualTo("failed");
    assertThat(h.generation(2).exit()).contains("exited with status 3");
  }

  @Test
  void aNewGenerationThatNeverBecomesReadyIsKilledAtTheDeadlineAndTheOldKeepsServing() {
    h.start();
    h.apps(p -> {});
    var deployed = h.deploy();
    h.advanceMillis(399);
    assertThat(deployed).isNotDone();
    assertThat(h.status().deploying()).isTrue();
    h.advanceMillis(1);
    assertThat(Harness.failure(deployed))
        .isEqualTo(
            "generation 2 (pid 1001) was not ready within 400 ms, waiting for"
                + " READY=1 on NOTIFY_SOCKET; it was killed and the active generation keeps serving. Raise [readiness]"
                + " timeout if it is just slow");
    assertThat(h.os.process(1).signals).containsExactly(Signal.KILL);
    assertThat(h.os.process(1).gone).isTrue();
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.status().deploying()).isFalse();
    assertThat(h.os.process(0).signals).isEmpty();
  }

  @Test
  void aCommandNotOnPathIsReportedBeforeAnythingIsSpawned() {
    h.start();
    var deployed = h.deploy(List.of("gunicron", "app:app"));
    assertThat(Harness.failure(deployed))
        .isEqualTo(
            "command not found: 'gunicron' is not on PATH (/usr/bin:/bin);"
                + " install it, use an absolute path, or fix [app] command");
    assertThat(h.os.processes).hasSize(1);
    assertThat(h.status().activeGeneration()).contains(1);
  }

  @Test
  void aSpawnThatFailsNamesTheCommandAndWorkdirToCheck() {
    h.start();
    h.os.spawnError =
        Optional.of(
            new NativeException("posix_spawn(/bin/sh)", 2, "ENOENT", "No such file or directory"));
    var deployed = h.deploy();
    assertThat(Harness.failure(deployed))
        .isEqualTo(
            "generation 2 could not start: posix_spawn(/bin/sh) failed: ENOENT"
                + " (No such file or directory); check [app] command and workdir ("
                + dir
                + ")");
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.status().deploying()).isFalse();
  }

  @Test
  void aSecondDeployDuringOneIsRefusedWithTheGenerationInProgress() {
    h.start();
    h.apps(p -> {});
    var first = h.deploy();
    h.advanceMillis(30);
    var second = h.deploy();
    assertThat(Harness.failure(second))
        .isEqualTo(
            "a deploy is already in progress (generation 2, started 30 ms ago);"
                + " wait for it to finish, then retry");
    assertThat(h.os.processes).hasSize(2);
    h.os.process(1).ready();
    h.drive();
    assertThat(first).isCompleted();
    assertThat(h.status().activeGeneration()).contains(2);
  }

  @Test
  void aDrainThatOverrunsItsGraceIsEndedWithSigkillToTheProcessGroup() {
    h.start();
    h.os.process(0).drainsOn = null;
    var drained = h.deployed().retired().orElseThrow();
    h.advanceMillis(299);
    assertThat(drained).isNotDone();
    assertThat(h.generation(1).state()).isEqualTo("draining");
    h.advanceMillis(1);
    assertThat(drained.join().detail()).isEqualTo("generation 1 killed by SIGKILL");
    assertThat(h.os.process(0).signals).containsExactly(Signal.TERM, Signal.KILL);
    assertThat(h.os.groupSignals).startsWith("1000:KILL");
  }

  @Test
  void withoutNotifyOrProbeAGenerationIsReadyOnceItHasStayedAlive() {
    h.apps(p -> {});
    h.start(Harness.BASE.replace("notify = true", "alive = \"100ms\""));
    assertThat(h.status().activeGeneration()).isEmpty();
    h.advance(Duration.ofMillis(100));
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.generation(1).readiness()).isEqualTo("stayed alive for 100 ms after 100 ms");
  }

  @Test
  void aPortInUseNamesItsOwnerAndTheFixAndLeavesNothingOpen() {
    h.os.listenError =
        Optional.of(
            new NativeException(
                "bind(127.0.0.1:8080)", 98, "EADDRINUSE", "Address already in use"));
    assertThatThrownBy(() -> h.open(Harness.BASE))
        .isInstanceOf(StartException.class)
        .hasMessage(
            "listener 'http' cannot bind 127.0.0.1:8080: the address is in use by pid 4121 (nginx); stop it or "
                + "change [[listen]] address for 'http' in "
                + dir.resolve("baton.toml"));
    assertThat(h.os.openFds()).isEmpty();
    assertThat(h.os.processes).isEmpty();
  }

  @Test
  void aControlSocketThatCannotBeCreatedStopsTheStartAndClosesWhatWasOpened() {
    var squatter = h.os.listenUnix(dir.resolve("baton.sock"), 0600);
    assertThatThrownBy(() -> h.open(Harness.BASE))
        .isInstanceOf(StartException.class)
        .hasMessage(
            "cannot create the control socket "
                + dir.resolve("baton.sock")
                + ": bind("
                + dir.resolve("baton.sock")
                + ") failed: EADDRINUSE (Address already in use); check that its directory exists and is writable,"
                + " or set [control] socket");
    assertThat(h.os.openFds())
        .containsExactly(
            "fd=" + squatter.fd().value() + " socket:[" + dir.resolve("baton.sock") + "]");
    assertThat(h.os.processes).isEmpty();
  }

  @Test
  void statusKeepsTheLastTwentyGenerationsAndPromotions() {
    h.start();
    for (int i = 0; i < 25; i++) {
      h.deployed();
    }
    assertThat(h.status().generations())
        .extracting(Status.GenerationStatus::number)
        .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(7, 26).boxed().toList());
    assertThat(h.status().history()).hasSize(Generations.HISTORY);
    assertThat(h.status().history().getFirst().generation()).isEqualTo(7);
  }

  @Test
  void theProcessGroupIsKilledBeforeTheGenerationIsReapedWhileItsPidCannotBeRecycled() {
    h.start();
    h.deployed(); // generation 1 drains and exits
    h.apps(p -> p.exitWith(3));
    h.deploy(); // generation 2 exits before it is ready
    assertThat(h.os.groupSignals).contains("1000:KILL", "1002:KILL");
    assertThat(h.os.groupSignalsAfterReap).isEmpty();
  }
}
