package dev.baton.haproxy;

import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/** A supervisor that deploys instantly: its version is its command, and "bad" versions fail 5xx. */
final class FakeHost implements Host {
  private final String name;
  private final FakeHaproxy haproxy;
  private final Deque<List<String>> previous = new ArrayDeque<>();
  int generation = 1;
  List<String> command = List.of("app", "v1");
  Optional<HostException> deployFailure = Optional.empty();
  Optional<HostException> unreachable = Optional.empty();
  boolean newVersionFailsHealthCheck;
  Runnable beforeDeploy = () -> {};
  int deploys;
  int rollbacks;

  FakeHost(String name, FakeHaproxy haproxy) {
    this.name = name;
    this.haproxy = haproxy;
  }

  @Override
  public String target() {
    return "fake:" + name;
  }

  @Override
  public Status status() {
    unreachable.ifPresent(
        e -> {
          throw e;
        });
    var started = Instant.EPOCH.plusSeconds(generation);
    var active =
        new Status.GenerationStatus(
            generation,
            "active",
            pid(),
            command,
            started,
            Optional.of(started),
            Optional.of(started),
            Optional.empty(),
            "READY from baton-app",
            Optional.empty(),
            "");
    return new Status(
        1,
        Optional.of(generation),
        false,
        Optional.empty(),
        List.of(),
        List.of(active),
        List.of(new Status.ListenerStatus("http", "0.0.0.0:8080", "fd", 3)),
        List.of(
            new Status.HistoryEntry(
                started, DeployKind.DEPLOY, generation, Optional.of(generation - 1), "")));
  }

  @Override
  public Reply.Done deploy(
      List<String> argv, Map<String, String> env, Duration timeout, Consumer<DeployEvent> events) {
    unreachable.ifPresent(
        e -> {
          throw e;
        });
    deploys++;
    beforeDeploy.run();
    if (deployFailure.isPresent()) {
      throw deployFailure.get();
    }
    previous.push(command);
    become(argv.isEmpty() ? List.of("app", "v1") : argv, events);
    haproxy.server(name).healthy = !newVersionFailsHealthCheck;
    return reply();
  }

  @Override
  public Reply.Done rollback(String reason, Duration timeout, Consumer<DeployEvent> events) {
    unreachable.ifPresent(
        e -> {
          throw e;
        });
    rollbacks++;
    become(previous.pop(), events);
    haproxy.server(name).healthy = true;
    return reply();
  }

  private void become(List<String> argv, Consumer<DeployEvent> events) {
    generation++;
    command = argv;
    haproxy.server(name).bad = argv.contains("bad");
    events.accept(
        new DeployEvent(
            DeployStep.PROMOTED,
            generation,
            pid(),
            Duration.ofMillis(1),
            "replaces generation " + (generation - 1)));
  }

  private Reply.Done reply() {
    return new Reply.Done(generation, pid());
  }

  private int pid() {
    return 1000 + generation;
  }
}
