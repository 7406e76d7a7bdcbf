package dev.baton.supervisor;

import dev.baton.config.Config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.baton.os.NativeException;
import dev.baton.os.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The deploy state machine against a scripted operating system. */
class SupervisorTest {
  private static final String BASE =
      """
      [app]
      command = ["/bin/sh", "-c", "exec app"]
      env = { MODE = "prod" }

      [[listen]]
      name = "http"
      address = "127.0.0.1:8080"

      [[listen]]
      name = "admin"
      address = "127.0.0.1:9090"

      [readiness]
      notify = true
      timeout = "400ms"

      [drain]
      signal = "TERM"
      timeout = "300ms"

      [restart]
      backoff = "50ms"
      max_backoff = "200ms"

      [control]
      socket = "/tmp/baton-unit.sock"
      """;

  private final FakeOs os = new FakeOs();
  private Supervisor supervisor;

  private Supervisor start(String toml) {
    supervisor = new Supervisor(Config.parse(Path.of("/srv/app/baton.toml"), toml), os, InstantSource.system());
    supervisor.start();
    return supervisor;
  }

  @AfterEach
  void stop() {
    if (supervisor != null) {
      supervisor.stop().orTimeout(5, TimeUnit.SECONDS).join();
    }
  }

  private Status.GenerationStatus generation(int number) {
    return supervisor.status().generations().stream().filter(g -> g.number() == number).findFirst().orElseThrow();
  }

  @Test
  void firstGenerationBecomesActiveOnReadyNotification() {
    start(BASE);
    assertThat(supervisor.status().activeGeneration()).contains(1);
    assertThat(generation(1).state()).isEqualTo("active");
    assertThat(generation(1).readiness()).startsWith("READY=1 on NOTIFY_SOCKET after");
  }

  @Test
  void listenersArePassedAsListenFdsThroughTheListenPidShim() {
    start(BASE);
    var spec = os.child(0).spec;
    assertThat(spec.listenFds()).hasSize(2);
    assertThat(spec.stdin()).isEmpty();
    assertThat(spec.env()).containsEntry("LISTEN_FDS", "2").containsEntry("LISTEN_FDNAMES", "http:admin")
        .containsEntry("BATON_GENERATION", "1").containsEntry("MODE", "prod")
        .containsEntry("NOTIFY_SOCKET", "/tmp/baton-unit.sock.notify").doesNotContainKey("LISTEN_PID");
    assertThat(spec.argv()).startsWith("/bin/sh", "-c", "export LISTEN_PID=$$; exec \"$0\" \"$@\"", "/bin/sh", "-c", "exec app");
  }

  @Test
  void aListenerMarkedFd0IsTheGenerationsStdin() {
    start(BASE.replace("name = \"admin\"", "name = \"admin\"\npass = \"fd0\""));
    var spec = os.child(0).spec;
    assertThat(spec.stdin()).isPresent();
    assertThat(spec.listenFds()).hasSize(1).doesNotContain(spec.stdin().get());
    assertThat(spec.env()).containsEntry("LISTEN_FDNAMES", "http");
  }

  @Test
  void anHttpProbeGetsAPrivateListenerNamedBatonProbe() {
    os.app = child -> {};
    supervisor = new Supervisor(Config.parse(Path.of("/srv/app/baton.toml"),
        BASE.replace("notify = true", "http = \"/healthz\"")), os, InstantSource.system());
    supervisor.start();
    var spec = os.child(0).spec;
    assertThat(spec.env()).containsEntry("LISTEN_FDS", "3").containsEntry("LISTEN_FDNAMES", "http:admin:baton-probe");
    // Our copy of the probe listener is closed at once: a dead generation's probe must be refused.
    assertThat(os.closed).contains(spec.listenFds().get(2));
    assertThat(generation(1).state()).isEqualTo("failed");
  }

  @Test
  void deployPromotesTheNewGenerationAndDrainsTheOldWithTheConfiguredSignal() {
    start(BASE);
    var events = new CopyOnWriteArrayList<DeployEvent>();
    var deployed = supervisor.deploy(DeployRequest.FROM_CONFIG, events::add);
    assertThat(deployed.generation()).isEqualTo(2);
    var drained = deployed.retired().orElseThrow().join();
    events.add(drained);
    assertThat(events).extracting(DeployEvent::step).containsExactly("spawned", "ready", "promoted", "drained");
    assertThat(os.child(0).signals).containsExactly(Signal.TERM, Signal.KILL);
    assertThat(supervisor.status().activeGeneration()).contains(2);
    assertThat(generation(1).state()).isEqualTo("exited");
  }

  @Test
  void deployCanOverrideTheCommandAndEnvironmentForOneGeneration() {
    start(BASE);
    supervisor.deploy(new DeployRequest(Optional.of(List.of("/bin/true", "v2")), Map.of("MODE", "canary")), e -> {});
    var spec = os.child(1).spec;
    assertThat(spec.argv()).endsWith("/bin/true", "v2");
    assertThat(spec.env()).containsEntry("MODE", "canary");
  }

  @Test
  void newGenerationThatExitsAtOnceLeavesTheOldServing() {
    start(BASE);
    os.app = child -> child.exitWith(3);
    assertThatThrownBy(() -> supervisor.deploy(DeployRequest.FROM_CONFIG, e -> {}))
        .isInstanceOf(DeployException.class)
        .hasMessageContaining("generation 2").hasMessageContaining("exited with status 3 before it was ready");
    assertThat(supervisor.status().activeGeneration()).contains(1);
    assertThat(os.child(0).signals).isEmpty();
    assertThat(generation(2).state()).isEqualTo("failed");
  }

  @Test
  void newGenerationThatNeverBecomesReadyIsKilledAndTheOldKeepsServing() {
    start(BASE);
    os.app = child -> {};
    assertThatThrownBy(() -> supervisor.deploy(DeployRequest.FROM_CONFIG, e -> {}))
        .isInstanceOf(DeployException.class)
        .hasMessageContaining("was not ready within 400 ms, waiting for READY=1 on NOTIFY_SOCKET");
    assertThat(os.child(1).signals).contains(Signal.KILL);
    assertThat(os.child(1).exit).isDone();
    assertThat(supervisor.status().activeGeneration()).contains(1);
    assertThat(os.child(0).signals).isEmpty();
  }

  @Test
  void commandNotFoundIsReportedAndTheOldKeepsServing() {
    start(BASE);
    assertThatThrownBy(() -> supervisor.deploy(new DeployRequest(Optional.of(List.of("gunicron", "app:app")), Map.of()), e -> {}))
        .isInstanceOf(DeployException.class)
        .hasMessageContaining("command not found: 'gunicron' is not on PATH");
    assertThat(os.children).hasSize(1);
    assertThat(supervisor.status().activeGeneration()).contains(1);
  }

  @Test
  void aSecondDeployDuringOneIsRefused() throws Exception {
    start(BASE);
    var release = new CountDownLatch(1);
    os.app = child -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        return;
      }
      child.notifyReady();
    };
    var first = Thread.ofVirtual().start(() -> supervisor.deploy(DeployRequest.FROM_CONFIG, e -> {}));
    await().until(() -> supervisor.status().deploying());
    assertThatThrownBy(() -> supervisor.deploy(DeployRequest.FROM_CONFIG, e -> {}))
        .isInstanceOf(DeployException.class)
        .hasMessageContaining("a deploy is already in progress (generation 2");
    release.countDown();
    first.join();
    assertThat(supervisor.status().activeGeneration()).contains(2);
  }

  @Test
  void anActiveGenerationThatCrashesIsRestartedWithBackoff() {
    start(BASE);
    os.child(0).exitWith(1);
    await().atMost(Duration.ofSeconds(3)).until(() -> supervisor.status().activeGeneration().equals(Optional.of(2)));
    assertThat(generation(1).state()).isEqualTo("failed");
    assertThat(generation(1).reason()).isEqualTo("crashed: exited with status 1");
    assertThat(os.groupSignals).contains(os.child(0).pid + ":KILL");
  }

  @Test
  void aCrashLoopBacksOffAndShowsInStatus() {
    start(BASE);
    os.app = child -> child.exitWith(7);
    os.child(0).exitWith(1);
    await().atMost(Duration.ofSeconds(3)).until(() -> os.children.size() >= 4);
    var crashLoop = supervisor.status().crashLoop();
    assertThat(crashLoop).isPresent();
    assertThat(crashLoop.get()).contains("failed start(s) in a row").contains("exited with status 7");
    // 50, 100, 200, 200 ms: four restarts need at least 350 ms, so there is no busy loop.
    var spawned = os.children.size();
    assertThat(spawned).isLessThan(12);
  }

  @Test
  void aDrainThatOverrunsItsGraceIsEndedWithSigkill() {
    start(BASE);
    os.child(0).drainsOnTerm = false;
    var deployed = supervisor.deploy(DeployRequest.FROM_CONFIG, e -> {});
    var drained = deployed.retired().orElseThrow().orTimeout(3, TimeUnit.SECONDS).join();
    assertThat(drained.detail()).contains("killed by SIGKILL");
    assertThat(os.child(0).signals).startsWith(Signal.TERM).contains(Signal.KILL);
  }

  @Test
  void stopDrainsEveryGenerationAndClosesTheListeners() {
    start(BASE);
    supervisor.stop().orTimeout(3, TimeUnit.SECONDS).join();
    assertThat(os.child(0).signals).startsWith(Signal.TERM);
    assertThat(os.closed).hasSizeGreaterThanOrEqualTo(2);
    assertThatThrownBy(() -> supervisor.deploy(DeployRequest.FROM_CONFIG, e -> {}))
        .hasMessageContaining("stopping");
  }

  @Test
  void aPortInUseNamesItsOwnerAndTheFix() {
    os.listenError = Optional.of(new NativeException("bind(127.0.0.1:8080)", 98, "EADDRINUSE", "Address already in use"));
    supervisor = new Supervisor(Config.parse(Path.of("/srv/app/baton.toml"), BASE), os, InstantSource.system());
    assertThatThrownBy(supervisor::start)
        .isInstanceOf(StartException.class)
        .hasMessage("listener 'http' cannot bind 127.0.0.1:8080: the address is in use by pid 4121 (nginx); stop it or "
            + "change [[listen]] address for 'http' in /srv/app/baton.toml");
    supervisor = null;
  }

  @Test
  void withoutNotifyOrProbeAGenerationIsReadyOnceItHasStayedAlive() {
    os.app = child -> {};
    start(BASE.replace("notify = true", "alive = \"100ms\""));
    assertThat(supervisor.status().activeGeneration()).contains(1);
    assertThat(generation(1).readiness()).startsWith("stayed alive for 100 ms");
  }

  @Test
  void rollbackWithNothingParkedStartsThePreviousCommandAgainThroughTheGate() {
    start(BASE);
    supervisor.deploy(new DeployRequest(Optional.of(List.of("/bin/true", "v2")), Map.of()), e -> {});
    var events = new CopyOnWriteArrayList<DeployEvent>();
    var rolledBack = supervisor.rollback(events::add, "v2 is slow");
    assertThat(rolledBack.generation()).isEqualTo(3);
    assertThat(os.child(2).spec.argv()).endsWith("/bin/sh", "-c", "exec app");
    assertThat(events).extracting(DeployEvent::step).containsExactly("spawned", "ready", "promoted");
    assertThat(supervisor.status().history()).extracting(Status.HistoryEntry::kind).containsExactly("start", "deploy", "rollback");
  }

  @Test
  void rollbackWithNoPreviousGenerationSaysSo() {
    start(BASE);
    assertThatThrownBy(() -> supervisor.rollback(e -> {}, "test"))
        .isInstanceOf(DeployException.class)
        .hasMessage("nothing to roll back to: generation 1 is the only one this supervisor has run");
    assertThat(supervisor.status().activeGeneration()).contains(1);
  }

  @Test
  void generationsAreToldWhereBatonControlIsAndToStartPaused() {
    start(BASE);
    assertThat(os.child(0).spec.env()).containsEntry("BATON_CONTROL", "/tmp/baton-unit.sock.app").containsEntry("BATON_START", "paused");
  }
}
