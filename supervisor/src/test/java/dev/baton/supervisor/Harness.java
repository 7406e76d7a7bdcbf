package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.config.Config;
import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Request;
import dev.baton.protocol.ServerMessage;
import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A supervisor on a {@link FakeOs}, a {@link ManualClock} and a scripted probe, driven by hand on
 * the test's thread: blocking work runs inline ({@code open(Runnable::run)}), {@link #drive()} runs
 * the loop until it has nothing left to do, and {@link #advance} moves the clock from timer to
 * timer. Nothing sleeps and nothing races: every test runs the same way every time.
 */
final class Harness {
  /** Generations say READY=1 on NOTIFY_SOCKET (FakeOs's default app); old ones drain on TERM. */
  static final String BASE =
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
      """;

  /** The pid and uid the operator's `baton` commands connect with. */
  static final int OPERATOR_PID = 4242;

  static final Instant T0 = Instant.parse("2026-01-05T10:00:00Z");

  final Path dir;
  final ManualClock clock = new ManualClock(T0);
  final FakeOs os = new FakeOs(clock);
  Config config;
  Supervisor supervisor;
  private FakePoller poller;

  /** The events of every deploy and rollback started through this harness. */
  final List<DeployEvent> events = new ArrayList<>();

  /** The execve that replaced the supervisor, if one did. */
  Optional<FakeOs.Execed> execed = Optional.empty();

  Harness(Path dir) {
    this.dir = dir;
  }

  /**
   * {@code toml} as the service's baton.toml: on disk, where a deploy reads it again, and parsed.
   */
  Config config(String toml) {
    var file = dir.resolve("baton.toml");
    try {
      java.nio.file.Files.writeString(file, toml);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return Config.parse(file, toml);
  }

  Supervisor start() {
    return start(BASE);
  }

  /**
   * What {@link Supervisor#start()} does, on this thread: open, then the first generation unless
   * one was recovered.
   */
  Supervisor start(String toml) {
    boolean recovered = open(toml);
    if (!recovered || supervisor.generations().active().isEmpty()) {
      supervisor.firstDeploy();
      drive();
    }
    return supervisor;
  }

  /**
   * Opens (binds or recovers) without a first deploy; returns whether a running service was taken
   * back.
   */
  boolean open(String toml) {
    config = config(toml);
    execed = Optional.empty();
    supervisor = new Supervisor(config, os, clock);
    supervisor.probe = (address, path, timeout) -> os.probe(address, path);
    boolean recovered = supervisor.open(Runnable::run);
    poller = os.lastPoller();
    drive();
    return recovered;
  }

  /** The supervisor dies; the next {@link #start} is a new one that takes the service back. */
  void crash() {
    os.crashSupervisor();
    supervisor = null;
  }

  /**
   * Runs the loop until it has nothing left to do: no descriptor ready, no posted task, no timer
   * due, and no app with something to answer. Stops, with {@link #execed} set, at an execve.
   */
  void drive() {
    for (int turn = 0; turn < 10_000; turn++) {
      try {
        supervisor.loop().runOnce(-1); // the fake poller never blocks, whatever the timeout
      } catch (FakeOs.Execed e) {
        execed = Optional.of(e);
        return;
      }
      boolean appsActed = os.step();
      if (!appsActed && poller.lastReported() == 0 && poller.lastTimeout() != 0) {
        return;
      }
    }
    throw new AssertionError("the loop never settles; watched: " + poller.describe());
  }

  /** Moves the clock by {@code duration}, stopping at every timer on the way, as time would. */
  void advance(Duration duration) {
    drive();
    var target = clock.instant().plus(duration);
    while (execed.isEmpty()) {
      long next = poller.lastTimeout();
      if (next < 0 || clock.instant().plusMillis(next).isAfter(target)) {
        break;
      }
      clock.set(clock.instant().plusMillis(next));
      drive();
    }
    if (execed.isEmpty()) {
      clock.set(target);
      drive();
    }
  }

  void advanceMillis(long millis) {
    advance(Duration.ofMillis(millis));
  }

  /** How long since the harness started, in ms. */
  long elapsedMillis() {
    return Duration.between(T0, clock.instant()).toMillis();
  }

  // The supervisor's API

  CompletableFuture<Supervisor.Deployed> deploy() {
    return deploy(new Request.Deploy(Optional.empty(), Map.of(), false));
  }

  CompletableFuture<Supervisor.Deployed> deploy(List<String> argv) {
    return deploy(new Request.Deploy(Optional.of(argv), Map.of(), false));
  }

  CompletableFuture<Supervisor.Deployed> deploy(Request.Deploy request) {
    var deployed = supervisor.deploy(request, events::add);
    drive();
    return deployed;
  }

  CompletableFuture<Supervisor.Deployed> rollback(String reason) {
    var rolledBack = supervisor.rollback(reason, events::add);
    drive();
    return rolledBack;
  }

  /**
   * Why {@code future}, a deploy, rollback or stop, failed: it must have, with a DeployException.
   */
  static String failure(CompletableFuture<?> future) {
    assertThat(future).isCompletedExceptionally();
    try {
      future.join();
      throw new AssertionError("not failed");
    } catch (java.util.concurrent.CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(DeployException.class);
      return e.getCause().getMessage();
    }
  }

  /** A deploy that has completed, and its retirement done: the new generation is active. */
  Supervisor.Deployed deployed() {
    var deployed = deploy();
    assertThat(deployed).isCompleted();
    return deployed.join();
  }

  Status status() {
    return supervisor.status();
  }

  Status.GenerationStatus generation(int number) {
    return status().generations().stream()
        .filter(g -> g.number() == number)
        .findFirst()
        .orElseThrow(() -> new AssertionError("status has no generation " + number));
  }

  /** The supervisor's own Generation object. */
  Generation live(int number) {
    return supervisor.generations().live().stream()
        .filter(g -> g.number == number)
        .findFirst()
        .orElseThrow(() -> new AssertionError("generation " + number + " is not live"));
  }

  List<DeployStep> steps() {
    return events.stream().map(DeployEvent::step).toList();
  }

  // The control socket, as the operator's `baton` speaks it

  /** Connects to the control socket as the operator, sends {@code request}, and drives. */
  FakeSockets.Connection request(Request request) {
    return send(Codec.encode(request), OPERATOR_PID, FakeOs.UID);
  }

  FakeSockets.Connection send(String line, int pid, int uid) {
    var connection = connect(pid, uid);
    connection.send(line);
    drive();
    return connection;
  }

  FakeSockets.Connection connect(int pid, int uid) {
    return os.connect(config.control().socket(), pid, uid);
  }

  static List<ServerMessage> messages(FakeSockets.Connection connection) {
    return connection.lines().stream().map(Codec::decodeMessage).toList();
  }

  // Apps

  /** Every spawned app is baton-app: it connects to BATON_CONTROL, says HELLO and READY. */
  void batonApps() {
    apps(
        p -> {
          p.connectControl();
          p.batonReady();
        });
  }

  void apps(Consumer<FakeProcess> app) {
    os.app = app;
  }

  /** What must hold after every test: no descriptor misused, and the loop idle. */
  void checkInvariants() {
    assertThat(os.violations).as("descriptor misuse").isEmpty();
  }
}
