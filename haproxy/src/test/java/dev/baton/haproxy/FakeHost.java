package dev.baton.haproxy;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A supervisor that deploys instantly: its version is its command, and "bad" versions fail 5xx. */
final class FakeHost implements Host {
  private static final JsonMapper JSON = JsonMapper.builder().build();

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
  public JsonNode status() {
    unreachable.ifPresent(e -> {
      throw e;
    });
    var status = JSON.createObjectNode();
    status.put("activeGeneration", generation);
    status.put("deploying", false);
    var g = status.putArray("generations").addObject();
    g.put("number", generation);
    g.put("state", "active");
    command.forEach(g.putArray("command")::add);
    return status;
  }

  @Override
  public JsonNode deploy(Optional<List<String>> argv, Map<String, String> env, Duration timeout, Consumer<JsonNode> events) {
    unreachable.ifPresent(e -> {
      throw e;
    });
    deploys++;
    beforeDeploy.run();
    if (deployFailure.isPresent()) {
      throw deployFailure.get();
    }
    previous.push(command);
    become(argv.orElse(List.of("app", "v1")), events);
    haproxy.server(name).healthy = !newVersionFailsHealthCheck;
    return reply();
  }

  @Override
  public JsonNode rollback(String reason, Duration timeout, Consumer<JsonNode> events) {
    unreachable.ifPresent(e -> {
      throw e;
    });
    rollbacks++;
    become(previous.pop(), events);
    haproxy.server(name).healthy = true;
    return reply();
  }

  private void become(List<String> argv, Consumer<JsonNode> events) {
    generation++;
    command = argv;
    haproxy.server(name).bad = argv.contains("bad");
    var event = JSON.createObjectNode();
    event.put("event", "promoted");
    event.put("generation", generation);
    event.put("pid", 1000 + generation);
    event.put("elapsed_ms", 1.0);
    event.put("detail", "replaces generation " + (generation - 1));
    events.accept(event);
  }

  private JsonNode reply() {
    var reply = JSON.createObjectNode();
    reply.put("ok", true);
    reply.put("generation", generation);
    reply.put("pid", 1000 + generation);
    return reply;
  }
}
