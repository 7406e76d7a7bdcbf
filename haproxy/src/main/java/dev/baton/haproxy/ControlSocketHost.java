package dev.baton.haproxy;

import dev.baton.config.Config;
import dev.baton.supervisor.ControlClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** A supervisor on this machine, over its control socket: what `baton deploy` does. */
final class ControlSocketHost implements Host {
  private final String target;
  private final Path socket;
  private final Optional<Config> config;
  private final Duration timeout;

  ControlSocketHost(String target, Path socket, Optional<Config> config, Duration timeout) {
    this.target = target;
    this.socket = socket;
    this.config = config;
    this.timeout = timeout;
  }

  @Override
  public String target() {
    return target;
  }

  @Override
  public Optional<Config> config() {
    return config;
  }

  @Override
  public JsonNode status() {
    return call(ControlClient.request("status"), timeout, e -> {}).get("status");
  }

  @Override
  public JsonNode deploy(Optional<List<String>> argv, Map<String, String> env, Duration timeout, Consumer<JsonNode> events) {
    var request = ControlClient.request("deploy");
    request.put("wait", true);
    argv.ifPresent(words -> words.forEach(request.putArray("argv")::add));
    var envNode = request.putObject("env");
    env.forEach(envNode::put);
    return call(request, timeout, events);
  }

  @Override
  public JsonNode rollback(String reason, Duration timeout, Consumer<JsonNode> events) {
    var request = ControlClient.request("rollback");
    request.put("wait", true);
    request.put("reason", reason);
    return call(request, timeout, events);
  }

  private JsonNode call(ObjectNode request, Duration limit, Consumer<JsonNode> events) {
    var command = request.path("command").asString();
    JsonNode reply;
    try {
      reply = TimeLimit.call(limit, () -> new ControlClient(socket).call(request, events),
          () -> new HostException("the supervisor at " + target + " did not finish '" + command + "' within "
              + limit.toSeconds() + " s; check its log (is it stuck, or stopped with SIGSTOP?)", true));
    } catch (ControlClient.ControlException e) {
      throw new HostException(e.getMessage(), true);
    }
    if (!reply.path("ok").asBoolean(false)) {
      throw new HostException("the supervisor at " + target + " refused '" + command + "': "
          + reply.path("error").asString("no reason given"), false);
    }
    return reply;
  }

  @Override
  public String toString() {
    return target;
  }
}
