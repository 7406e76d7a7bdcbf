package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.supervisor.ControlClient;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Sends a control request and prints its events and reply, for people or as JSON lines. */
final class Replies {
  private Replies() {}

  static int send(ConfigOption config, ObjectNode request, boolean json) {
    Path socket;
    try {
      socket = config.load().control().socket();
    } catch (ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.USAGE;
    }
    JsonNode reply;
    try {
      reply = new ControlClient(socket).call(request, event -> System.out.println(json ? event.toString() : describe(event)));
    } catch (ControlClient.ControlException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.UNREACHABLE;
    }
    if (json) {
      System.out.println(reply);
    } else if (!reply.path("ok").asBoolean(false)) {
      System.err.println("baton: " + reply.path("error").asString("the supervisor gave no reason"));
    } else if (reply.has("generation")) {
      System.out.println("generation " + reply.get("generation").asInt() + " is active (pid " + reply.path("pid").asInt() + ")");
    }
    return reply.path("ok").asBoolean(false) ? 0 : Main.FAILED;
  }

  static String describe(JsonNode event) {
    return String.format("%-9s generation %-4d pid %-8d %+9.1f ms  %s",
        event.path("event").asString(""), event.path("generation").asInt(), event.path("pid").asInt(),
        event.path("elapsed_ms").asDouble(), event.path("detail").asString(""));
  }
}
