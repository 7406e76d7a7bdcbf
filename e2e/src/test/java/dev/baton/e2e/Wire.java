package dev.baton.e2e;

import dev.baton.protocol.Codec;
import dev.baton.protocol.ControlClient;
import dev.baton.protocol.Request;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The control socket as the tests read it: protocol's client sends the request, and the lines come
 * back as the JSON on the wire, so that the tests assert what any client sees.
 */
final class Wire {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private Wire() {}

  static JsonNode call(Path socket, Request request, Consumer<JsonNode> events) {
    var reply =
        new ControlClient(socket)
            .call(request, event -> events.accept(JSON.readTree(Codec.encode(event))));
    return JSON.readTree(Codec.encode(reply));
  }

  static Request request(String command) {
    return switch (command) {
      case "status" -> new Request.GetStatus();
      case "deploy" -> new Request.Deploy(Optional.empty(), Map.of(), false);
      case "rollback" -> new Request.Rollback(Optional.empty(), false);
      case "stop" -> new Request.Stop();
      case "upgrade" -> new Request.Upgrade();
      case "reopen-logs" -> new Request.ReopenLogs();
      default -> throw new IllegalArgumentException("no such command: " + command);
    };
  }
}
